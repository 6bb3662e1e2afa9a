//! The reference server's fixtures (webrpc `tests/server/server.go`), value for value.
//!
//! `GetOne`, `GetMulti`, `GetComplex`, `GetEnumList` and `GetEnumMap` answer these, and
//! `SendOne`, `SendMulti` and `SendComplex` expect them back.

use std::collections::BTreeMap;

use serde_json::Value;

use super::schema::{Access, Complex, EnumData, Simple, Status, User};

/// `fixtureOne`: `{"id":1,"name":"one"}`.
pub fn fixture_one() -> Simple {
    Simple {
        id: 1,
        name: "one".to_owned(),
    }
}

/// `fixtureTwo`: `{"id":2,"name":"two"}`.
pub fn fixture_two() -> Simple {
    Simple {
        id: 2,
        name: "two".to_owned(),
    }
}

/// `fixtureThree`: `{"id":3,"name":"three"}`.
pub fn fixture_three() -> Simple {
    Simple {
        id: 3,
        name: "three".to_owned(),
    }
}

/// The user that appears three times in [`fixture_complex`]:
/// `{"id":1,"USERNAME":"John-Doe","role":"admin"}`.
pub fn fixture_user() -> User {
    User {
        id: 1,
        username: "John-Doe".to_owned(),
        role: "admin".to_owned(),
    }
}

/// `fixtureComplex`.
///
/// `meta["2"]` is `float64(24)` in the Go source; Go writes it as `24`, and so do we (it is
/// held as the JSON integer 24). Compared with [`values_match`](super::values_match), any
/// JSON number equal to 24 matches it, as with Go.
pub fn fixture_complex() -> Complex {
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Complex {
        meta: serde_json::Map::from_iter([
            ("1".to_owned(), Value::from("23")),
            ("2".to_owned(), Value::from(24)),
        ]),
        meta_nested_example: BTreeMap::from([(
            "1".to_owned(),
            BTreeMap::from([("2".to_owned(), 1)]),
        )]),
        names_list: strings(&["John", "Alice", "Jakob"]),
        nums_list: vec![1, 2, 3, 4_534_643_543],
        double_array: vec![strings(&["testing"]), strings(&["api"])],
        list_of_maps: vec![BTreeMap::from([
            ("john".to_owned(), 1),
            ("alice".to_owned(), 2),
            ("Jakob".to_owned(), 251),
        ])],
        list_of_users: vec![fixture_user()],
        map_of_users: BTreeMap::from([("admin".to_owned(), fixture_user())]),
        user: fixture_user(),
        status: Status::Available,
    }
}

/// `fixtureEnums`: `dict` is `{READ: 1, WRITE: 2}`, `list` is `[AVAILABLE, NOT_AVAILABLE]`.
pub fn fixture_enums() -> EnumData {
    EnumData {
        dict: BTreeMap::from([(Access::Read, 1), (Access::Write, 2)]),
        list: vec![Status::Available, Status::NotAvailable],
    }
}
