use clap::Parser;

use super::{DeviceCmd, OnOff};
use crate::cli::{AdminCmd, Cli, Command};

fn device(args: &[&str]) -> Result<DeviceCmd, clap::Error> {
    let cli = Cli::try_parse_from(["packtrack", "admin", "device"].iter().chain(args).copied())?;
    match cli.command {
        Command::Admin(AdminCmd::Device(d)) => Ok(d),
        other => panic!("not a device command: {other:?}"),
    }
}

#[test]
fn self_service_on_add_and_as_its_own_command() {
    let base = [
        "add",
        "--facility",
        "north",
        "--name",
        "Desk",
        "--key-file",
        "k.pub",
    ];
    let d = device(&[&base[..], &["--self-service"]].concat()).unwrap();
    assert!(matches!(
        d,
        DeviceCmd::Add {
            self_service: true,
            ..
        }
    ));
    assert!(matches!(
        device(&base).unwrap(),
        DeviceCmd::Add {
            self_service: false,
            ..
        }
    ));
    for (word, want) in [("on", OnOff::On), ("off", OnOff::Off)] {
        let d = device(&[
            "self-service",
            "--facility",
            "north",
            "--name",
            "Desk",
            word,
        ])
        .unwrap();
        assert!(matches!(d, DeviceCmd::SelfService { state, .. } if state == want));
    }
    assert!(
        device(&[
            "self-service",
            "--facility",
            "north",
            "--name",
            "Desk",
            "maybe"
        ])
        .is_err()
    );
}
