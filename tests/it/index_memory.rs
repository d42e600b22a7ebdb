//! The search index memory budget through `Ops` on a real database: a facility evicted over
//! the budget is rebuilt by its next search, which still finds everyone, changes made while
//! it was out included.

use packtrack::domain::Role;
use packtrack::ops::{Ops, RecipientFields};

use crate::support::{fresh_db, member};

fn resident(name: &str, unit: &str) -> RecipientFields {
    RecipientFields {
        name: name.into(),
        unit: unit.into(),
        email: String::new(),
        phone: String::new(),
        aliases: String::new(),
    }
}

#[tokio::test]
async fn an_evicted_facility_is_rebuilt_by_its_next_search() {
    let db = fresh_db().await;
    let north = member(&db, "north", "nadia", Role::Admin).await;
    let south = member(&db, "south", "sam", Role::Admin).await;
    // One byte: any second index is over the budget.
    let ops = Ops::new(db.app(4).await.unwrap()).with_index_memory(1);
    ops.create_recipient(&north, &resident("Ada Lovelace", "A-101"))
        .await
        .unwrap();
    ops.create_recipient(&south, &resident("Grace Hopper", "B-202"))
        .await
        .unwrap();
    let names = async |p, q| {
        ops.search_recipients(p, q, 5, false)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.recipient.name)
            .collect::<Vec<_>>()
    };

    assert_eq!(names(&north, "ada").await, ["Ada Lovelace"]);
    assert_eq!(ops.index_stats().indexes, 1);
    // South's build evicts north (idle, least recently searched).
    assert_eq!(names(&south, "grace").await, ["Grace Hopper"]);
    let stats = ops.index_stats();
    assert_eq!((stats.indexes, stats.evictions), (1, 1), "{stats:?}");
    // Added while north had no index: its rebuild reads every row.
    ops.create_recipient(&north, &resident("Adele Goldberg", "A-102"))
        .await
        .unwrap();
    let mut found = names(&north, "ad").await;
    found.sort();
    assert_eq!(found, ["Ada Lovelace", "Adele Goldberg"]);
    let stats = ops.index_stats();
    assert_eq!((stats.indexes, stats.evictions), (1, 2), "{stats:?}");
    assert!(stats.bytes > 1, "{stats:?}");
}
