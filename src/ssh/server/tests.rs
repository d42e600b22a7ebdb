use super::*;

/// A bug that panics inside an exec command used to kill its task: the client never got
/// an exit status and waited forever.
#[tokio::test]
async fn a_panicking_command_still_answers() {
    let out = contain(
        async {
            let ids: Vec<i64> = Vec::new();
            let first = ids[0]; // the old pickup race: index out of bounds
            super::super::exec::Output {
                stdout: first.to_string(),
                stderr: String::new(),
                status: 0,
            }
        },
        || super::super::exec::Output {
            stdout: String::new(),
            stderr: INTERNAL_ERROR.into(),
            status: 70,
        },
    )
    .await;
    assert_eq!(out.status, 70);
    assert!(out.stderr.starts_with("packtrack: internal error"));
    assert_eq!(contain(async { 7 }, || 0).await, 7);
}
