use super::*;

#[test]
fn short_or_non_digit_pins_are_refused() {
    assert_eq!(check("4711"), Err(PinError::Shape));
    assert_eq!(check("47110"), Err(PinError::Shape));
    assert_eq!(check("4711a9"), Err(PinError::Shape));
    assert_eq!(check("1234567890123"), Err(PinError::Shape));
    assert_eq!(check(""), Err(PinError::Shape));
}

#[test]
fn first_guesses_are_refused() {
    for pin in [
        "000000",
        "111111",
        "123456",
        "654321",
        "890123",
        "121212",
        "123123",
        "9999999",
        "012345678",
        "454545",
        "147147",
    ] {
        assert_eq!(check(pin), Err(PinError::Trivial), "{pin}");
    }
}

#[test]
fn ordinary_pins_are_accepted() {
    for pin in ["471193", "802614", "120034", "112358", "13572468", "999998"] {
        assert_eq!(check(pin), Ok(()), "{pin}");
    }
}
