//! `packtrack label`: what each scanned text is, as text or JSON lines.

use std::process::ExitCode;

/// Prints what each scanned text is. Exit 1 when some input is not a tracking number.
pub(super) fn label(json: bool, inputs: &[String]) -> ExitCode {
    let mut all_known = true;
    for input in inputs {
        let parsed = crate::label::parse(input);
        all_known &= parsed.carrier.is_some();
        if json {
            println!("{}", parsed.to_json());
        } else {
            match parsed.carrier {
                Some(carrier) => println!(
                    "{}\t{carrier}\t{}\tchecksum {}{}",
                    parsed.tracking,
                    parsed.service.as_deref().unwrap_or("-"),
                    match parsed.checksum {
                        crate::label::Checksum::Valid => "valid",
                        crate::label::Checksum::Invalid => "INVALID (check the number)",
                        crate::label::Checksum::None => "none",
                    },
                    if parsed.candidates.len() > 1 {
                        format!(
                            "\talso: {}",
                            parsed.candidates[1..]
                                .iter()
                                .map(|c| c.carrier)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        String::new()
                    }
                ),
                None => println!(
                    "{}\tnot a known tracking number format",
                    parsed.input.trim()
                ),
            }
        }
    }
    if all_known {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
