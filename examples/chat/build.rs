//! Generates the chat's types, trait, client and mount function from its schema (and has
//! Cargo rerun this when the schema changes).

fn main() {
    let schema = "schema/chat.ridl";
    if let Err(err) = webrpc_build::compile(schema) {
        panic!("{schema}: {err}");
    }
}
