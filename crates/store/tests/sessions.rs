//! Sessions and device credentials checked many at a time, and letters addressed to an account
//! when they are queued.

use std::time::Duration;

use chrono::Utc;
use docde_domain::account::Role;
use docde_store::accounts::{sessions, users};
use docde_store::outbox::{self, Letter};
use docde_store::with_writer;
use uuid::Uuid;

mod common;

use common::fresh_store;

async fn account(store: &docde_store::Store, email: &str) -> Uuid {
    let id = Uuid::now_v7();
    let user = users::NewUser {
        email: email.to_owned(),
        email_key: email.to_lowercase(),
        password_hash: None,
        role: Role::Patient,
        hospital_id: None,
        employee_number: None,
        name: "환자".into(),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    users::create(store, id, &user, None, None, Utc::now())
        .await
        .expect("account created");
    id
}

async fn session(store: &docde_store::Store, user: Uuid) -> Uuid {
    let refresh = sessions::NewRefresh {
        id: Uuid::now_v7(),
        secret_hash: "00".repeat(32),
        expires_at: Utc::now() + chrono::Duration::days(1),
    };
    sessions::start(store, user, &refresh, Utc::now())
        .await
        .expect("session started")
}

#[tokio::test]
async fn live_among_keeps_only_unrevoked_sessions_of_active_accounts() {
    let store = fresh_store().await;
    let alice = account(&store, "alice@example.kr").await;
    let bob = account(&store, "bob@example.kr").await;
    let live = session(&store, alice).await;
    let logged_out = session(&store, alice).await;
    let deleted = session(&store, bob).await;
    sessions::revoke(&store, logged_out, "logout", Utc::now())
        .await
        .unwrap();
    users::soft_delete(&store, bob, Utc::now()).await.unwrap();
    let unknown = Uuid::now_v7();

    let answer = sessions::live_among(&store, &[live, logged_out, deleted, unknown])
        .await
        .unwrap();
    assert_eq!(answer, [live].into_iter().collect());
    for id in [live, logged_out, deleted, unknown] {
        assert_eq!(
            sessions::is_live(&store, id).await.unwrap(),
            answer.contains(&id),
            "one-at-a-time and batched checks agree"
        );
    }
    assert!(sessions::live_among(&store, &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_letter_is_addressed_to_the_account_and_not_queued_for_a_deleted_one() {
    let store = fresh_store().await;
    let alice = account(&store, "Alice@Example.kr").await;
    let bob = account(&store, "bob@example.kr").await;
    users::soft_delete(&store, bob, Utc::now()).await.unwrap();
    let letter = Letter {
        subject: "예약 / appointment".into(),
        body: "본문".into(),
    };
    for user in [alice, bob] {
        with_writer!(store, pool => docde_store::enqueue_letter!(pool, &letter, user, Uuid::now_v7(), Utc::now())
            .await
            .map(|_| ()))
        .unwrap();
    }
    let claimed = outbox::claim_due(&store, 10, Duration::from_secs(60), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        claimed.len(),
        1,
        "nothing is queued for the deleted account"
    );
    assert_eq!(claimed[0].to, "Alice@Example.kr");
    assert_eq!(claimed[0].subject, letter.subject);
}

#[tokio::test]
async fn device_credentials_are_read_many_at_a_time_with_their_revocation() {
    use docde_store::accounts::devices::{self, NewDevice};
    use docde_store::accounts::hospitals::{create_hospital, create_ward};

    let store = fresh_store().await;
    let hospital = create_hospital(&store, "병원", "Asia/Seoul", Utc::now())
        .await
        .unwrap()
        .id;
    let ward = create_ward(&store, hospital, "병동", Utc::now())
        .await
        .unwrap()
        .id;
    let device = |ward_id: Option<Uuid>, secret: &str| NewDevice {
        hospital_id: hospital,
        ward_id,
        name: "monitor".into(),
        kind: "bedside_monitor".into(),
        secret_hash: secret.into(),
    };
    let a = devices::create(&store, &device(Some(ward), "hash-a"), Utc::now())
        .await
        .unwrap();
    let b = devices::create(&store, &device(None, "hash-b"), Utc::now())
        .await
        .unwrap();
    assert!(devices::revoke(&store, b.id, Utc::now()).await.unwrap());
    let unknown = Uuid::now_v7();
    let found = devices::credentials_among(&store, &[a.id, b.id, unknown])
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "the unknown id is left out");
    let (ca, cb) = (&found[&a.id], &found[&b.id]);
    assert_eq!(
        (
            ca.hospital_id,
            ca.ward_id,
            ca.secret_hash.as_str(),
            ca.revoked
        ),
        (hospital, Some(ward), "hash-a", false)
    );
    assert_eq!(
        (cb.ward_id, cb.secret_hash.as_str(), cb.revoked),
        (None, "hash-b", true)
    );
    assert!(
        devices::credentials_among(&store, &[unknown])
            .await
            .unwrap()
            .is_empty()
    );
}
