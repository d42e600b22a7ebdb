use super::*;

#[test]
fn depth_from_term() {
    assert_eq!(
        ColorDepth::from_term("xterm-256color", None),
        ColorDepth::Ansi256
    );
    assert_eq!(
        ColorDepth::from_term("xterm-256color", Some("truecolor")),
        ColorDepth::TrueColor
    );
    assert_eq!(
        ColorDepth::from_term("xterm-direct", None),
        ColorDepth::TrueColor
    );
    assert_eq!(ColorDepth::from_term("xterm", None), ColorDepth::Ansi16);
    assert_eq!(ColorDepth::from_term("linux", None), ColorDepth::Ansi16);
    assert_eq!(ColorDepth::from_term("vt100", None), ColorDepth::Mono);
    assert_eq!(ColorDepth::from_term("vt220", None), ColorDepth::Mono);
    assert_eq!(ColorDepth::from_term("xterm-mono", None), ColorDepth::Mono);
    assert_eq!(ColorDepth::from_term("dumb", None), ColorDepth::Mono);
    assert_eq!(ColorDepth::from_term("", None), ColorDepth::Mono);
}
