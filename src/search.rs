//! Placeholder recipient index (replaced by the nucleo-backed index).

use crate::db::recipients::Recipient;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Name,
    Unit,
    Email,
    Alias(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: i64,
    pub score: u32,
    pub field: Field,
    pub indices: Vec<u32>,
}

pub struct RecipientIndex {
    items: Vec<Recipient>,
}

impl RecipientIndex {
    pub fn new(recipients: Vec<Recipient>) -> Self {
        Self { items: recipients }
    }
    pub fn upsert(&mut self, r: Recipient) {
        self.remove(r.id);
        self.items.push(r);
    }
    pub fn remove(&mut self, id: i64) {
        self.items.retain(|r| r.id != id);
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn get(&self, id: i64) -> Option<&Recipient> {
        self.items.iter().find(|r| r.id == id)
    }
    pub fn search(&self, query: &str, limit: usize, include_inactive: bool) -> Vec<Hit> {
        let q = query.to_lowercase();
        self.items
            .iter()
            .filter(|r| include_inactive || r.active)
            .filter(|r| r.name.to_lowercase().contains(&q) || r.unit.to_lowercase().contains(&q))
            .take(limit)
            .map(|r| Hit {
                id: r.id,
                score: 1,
                field: Field::Name,
                indices: vec![],
            })
            .collect()
    }
}
