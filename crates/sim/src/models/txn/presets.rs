//! The isolation lab's preset scenarios: one interleaving per classic anomaly. Sessions
//! BEGIN without a level, so each preset runs at whichever level the learner picks (the
//! run's default level): the same script shows what each level allows or prevents.
//! Names follow Berenson et al. 1995 ("A Critique of ANSI SQL Isolation Levels": P0–P4,
//! A5A read skew, A5B write skew), Adya 2000 (G-phenomena) and Fekete et al. 2004
//! ("A read-only transaction anomaly under snapshot isolation").

/// A preset scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// URL-safe id, e.g. `"lost-update"`.
    pub id: &'static str,
    pub title: &'static str,
    /// The phenomenon's standard names.
    pub phenomenon: &'static str,
    /// What the script does and what to watch, in one paragraph.
    pub summary: &'static str,
    /// The script (see [`super::script`]).
    pub script: &'static str,
}

/// Every preset, in teaching order (weakest anomaly first).
pub const PRESETS: &[Preset] = &[
    Preset {
        id: "dirty-read",
        title: "Dirty read",
        phenomenon: "P1 / G1a aborted read",
        summary: "T1 moves money out of Alice's account but then rolls back. T2 reads the balance in between: does it see money that never really left?",
        script: "setup: create table accounts (id int primary key, owner text, balance int);
setup: insert into accounts values (1, 'alice', 500), (2, 'bob', 500);
T1: begin;
T1: update accounts set balance = balance - 100 where id = 1;
T2: begin;
T2: select * from accounts where id = 1;
T1: rollback;
T2: select * from accounts where id = 1;
T2: commit;
",
    },
    Preset {
        id: "dirty-write",
        title: "Dirty write",
        phenomenon: "P0 / G0 write cycle",
        summary: "Alice and Bob buy the same car: each transaction writes the listing and the invoice. If the writes interleaved, the car could go to Bob with the invoice sent to Alice. Every level stops this: T2's first write waits for T1's row lock.",
        script: "setup: create table listings (id int primary key, buyer text);
setup: create table invoices (id int primary key, recipient text);
setup: insert into listings values (1, 'nobody');
setup: insert into invoices values (1, 'nobody');
T1: begin;
T2: begin;
T1: update listings set buyer = 'alice' where id = 1;
T2: update listings set buyer = 'bob' where id = 1;
T1: update invoices set recipient = 'alice' where id = 1;
T1: commit;
T2: update invoices set recipient = 'bob' where id = 1;
T2: commit;
T3: select * from listings;
T3: select * from invoices;
",
    },
    Preset {
        id: "non-repeatable-read",
        title: "Non-repeatable read",
        phenomenon: "P2 fuzzy read",
        summary: "T1 reads a row twice; T2 changes it and commits in between. Does T1's second read agree with its first?",
        script: "setup: create table accounts (id int primary key, owner text, balance int);
setup: insert into accounts values (1, 'alice', 500), (2, 'bob', 500);
T1: begin;
T1: select * from accounts where id = 1;
T2: begin;
T2: update accounts set balance = 600 where id = 1;
T2: commit;
T1: select * from accounts where id = 1;
T1: commit;
",
    },
    Preset {
        id: "phantom",
        title: "Phantom",
        phenomenon: "P3 phantom",
        summary: "T1 lists the large payments twice; T2 inserts a new large payment and commits in between. Does a new row appear in T1's second answer?",
        script: "setup: create table payments (id int primary key, amount int);
setup: insert into payments values (1, 50), (2, 300);
T1: begin;
T1: select * from payments where amount > 100;
T2: begin;
T2: insert into payments values (3, 700);
T2: commit;
T1: select * from payments where amount > 100;
T1: commit;
",
    },
    Preset {
        id: "lost-update",
        title: "Lost update (counter increment)",
        phenomenon: "P4 lost update",
        summary: "Two clients increment a page counter the read-modify-write way: read the value, add one in the application, write it back. Both read 10 and both write 11: one increment is lost unless the level stops the second writer.",
        script: "setup: create table counters (id int primary key, hits int);
setup: insert into counters values (1, 10);
T1: begin;
T2: begin;
T1: select * from counters where id = 1;
T2: select * from counters where id = 1;
T1: update counters set hits = 11 where id = 1;
T2: update counters set hits = 11 where id = 1;
T1: commit;
T2: commit;
T3: select * from counters;
",
    },
    Preset {
        id: "read-skew",
        title: "Read skew (bank transfer)",
        phenomenon: "A5A read skew / G-single",
        summary: "Alice has 500 in each of two accounts. T2 moves 100 from one to the other while T1 reads the two balances: T1 may see 400 + 500 or 500 + 600 — money that vanished or appeared.",
        script: "setup: create table accounts (id int primary key, owner text, balance int);
setup: insert into accounts values (1, 'alice', 500), (2, 'alice', 500);
T1: begin;
T1: select * from accounts where id = 1;
T2: begin;
T2: update accounts set balance = balance + 100 where id = 1;
T2: update accounts set balance = balance - 100 where id = 2;
T2: commit;
T1: select * from accounts where id = 2;
T1: commit;
",
    },
    Preset {
        id: "write-skew",
        title: "Write skew (doctors on call)",
        phenomenon: "A5B write skew / G2-item",
        summary: "At least one doctor must stay on call. Alice and Bob both feel ill; each checks that two doctors are on call and takes themself off. Each decision was right on its snapshot; together they leave nobody on call.",
        script: "setup: create table doctors (id int primary key, name text, on_call int);
setup: insert into doctors values (1, 'alice', 1), (2, 'bob', 1);
T1: begin;
T2: begin;
T1: select * from doctors where on_call = 1;
T2: select * from doctors where on_call = 1;
T1: update doctors set on_call = 0 where id = 1;
T2: update doctors set on_call = 0 where id = 2;
T1: commit;
T2: commit;
T3: select * from doctors where on_call = 1;
",
    },
    Preset {
        id: "double-booking",
        title: "Double booking",
        phenomenon: "G2 phantom write skew",
        summary: "Two people book meeting room 1 for 9 o'clock. Each checks that no booking exists for that room and time, then inserts one. The conflict is between a read of rows that do not exist yet and an insert: row locks cannot catch it.",
        script: "setup: create table bookings (id int primary key, room int, hour int, who text);
setup: insert into bookings values (1, 2, 9, 'carol');
T1: begin;
T2: begin;
T1: select * from bookings where room = 1 and hour = 9;
T2: select * from bookings where room = 1 and hour = 9;
T1: insert into bookings values (10, 1, 9, 'alice');
T2: insert into bookings values (11, 1, 9, 'bob');
T1: commit;
T2: commit;
T3: select * from bookings where room = 1;
",
    },
    Preset {
        id: "read-only-anomaly",
        title: "Read-only anomaly (Fekete et al.)",
        phenomenon: "G2 with a read-only transaction",
        summary: "T2 withdraws 10 from checking, charging a 1 fee if checking + savings would go negative; it reads both balances (0 and 0). T1 deposits 20 into savings and commits. T3, read-only, prints both balances: 0 and 20. T2 then charges the fee — which only makes sense if T2 ran before T1, yet T3 saw T1's deposit and not T2's withdrawal. Even a read-only transaction can see a state no serial order produces.",
        script: "setup: create table accounts (id int primary key, kind text, balance int);
setup: insert into accounts values (1, 'checking', 0), (2, 'savings', 0);
T2: begin;
T2: select * from accounts;
T1: begin;
T1: update accounts set balance = balance + 20 where id = 2;
T1: commit;
T3: begin;
T3: select * from accounts;
T3: commit;
T2: update accounts set balance = balance - 11 where id = 1;
T2: commit;
",
    },
];

/// The preset with this id.
pub fn preset(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}
