use super::Route;

#[test]
fn pooled_transactions_open_with_the_prelude() {
    assert_eq!(Route::Direct.begin(None), "BEGIN");
    assert_eq!(Route::Direct.begin(Some("SELECT 1")), "BEGIN; SELECT 1");
    assert_eq!(
        Route::Pooled.begin(Some("SELECT 1")),
        "BEGIN; DEALLOCATE ALL; SET LOCAL ROLE packtrack_app; SELECT 1"
    );
}
