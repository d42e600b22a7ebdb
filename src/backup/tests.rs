use super::*;

#[test]
fn the_password_leaves_the_url() {
    let (url, pw) = split_password("postgresql://o:p%40ss@localhost:5432/db?host=/x/y");
    assert_eq!(pw.as_deref(), Some("p@ss"));
    assert!(
        !url.contains("p%40ss") && url.contains("host=/x/y"),
        "{url}"
    );
    assert_eq!(split_password("postgresql://o@h/db").1, None);
}
