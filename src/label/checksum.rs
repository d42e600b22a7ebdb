//! The five check-digit rules used by the carriers we recognise, as pure functions.
//!
//! Each function takes the characters the check digit covers (`body`) and returns the check
//! digit the rule expects, or `None` when `body` holds a character the rule cannot value. The
//! caller compares that with the printed check digit; keeping "compute" separate from "compare"
//! lets tests generate valid numbers from the same definitions.

/// Value of one character: digits are themselves; letters count (ASCII code − 3) mod 10, so
/// A=2 … H=9, I=0 … R=9, … Z=7 (the UPS/OnTrac convention).
pub fn char_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        'A'..='Z' => Some((u32::from(c) - 3) % 10),
        _ => None,
    }
}

/// Alternating mod 10: values weighted `first`, `second`, `first`, … from the left;
/// check = (10 − sum mod 10) mod 10. UPS and OnTrac use (1, 2), FedEx Ground (1, 3).
pub fn alternating_mod10(body: &str, first: u32, second: u32) -> Option<u32> {
    let mut sum = 0u32;
    for (i, c) in body.chars().enumerate() {
        let w = if i % 2 == 0 { first } else { second };
        sum = (sum + char_value(c)? * w) % 10;
    }
    Some((10 - sum) % 10)
}

/// GS1 mod 10: weight 3 on the digit just left of the check digit, then 1, 3, 1 … going
/// left. Anchoring at the right end makes it independent of the body's length, which is why
/// USPS can prepend `91` or not and still use one rule.
pub fn gs1_mod10(body: &str) -> Option<u32> {
    let mut sum = 0u32;
    for (i, c) in body.chars().rev().enumerate() {
        let w = if i % 2 == 0 { 3 } else { 1 };
        sum = (sum + c.to_digit(10)? * w) % 10;
    }
    Some((10 - sum) % 10)
}

/// FedEx mod 11: weights 1, 3, 7, 1, 3, 7 … from the digit left of the check digit going
/// left; check = (sum mod 11) mod 10.
pub fn fedex_mod11(body: &str) -> Option<u32> {
    const WEIGHTS: [u32; 3] = [1, 3, 7];
    let mut sum = 0u32;
    for (i, c) in body.chars().rev().enumerate() {
        sum = (sum + c.to_digit(10)? * WEIGHTS[i % 3]) % 11;
    }
    Some(sum % 10)
}

/// DHL Express mod 7: the serial read as one integer, check = serial mod 7. Reduced digit
/// by digit so any length works without overflow. Check digits 7–9 can never verify.
pub fn mod7(body: &str) -> Option<u32> {
    if body.is_empty() {
        return None;
    }
    let mut rem = 0u32;
    for c in body.chars() {
        rem = (rem * 10 + c.to_digit(10)?) % 7;
    }
    Some(rem)
}

/// UPU S10 mod 11 over exactly eight serial digits, weights 8 6 4 2 3 5 9 7;
/// c = 11 − (sum mod 11), with 10 → 0 and 11 → 5.
pub fn s10_mod11(body: &str) -> Option<u32> {
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    if body.chars().count() != WEIGHTS.len() {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in body.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    })
}

#[cfg(test)]
mod tests;
