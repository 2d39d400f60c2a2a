//! The availability view's tests: loads overtaken by changes, reloads, and who waits.

use super::*;

const NINE: i64 = 1_800_000_000;

fn view(doctor_id: Uuid, taken: &[(i64, u16)]) -> DoctorView {
    DoctorView {
        doctor: schedules::BookableDoctor {
            id: doctor_id,
            hospital_id: Uuid::now_v7(),
            user_id: None,
            accepts_online_booking: true,
            time_zone: "Asia/Seoul".into(),
            booking_mode: "auto_confirm".into(),
        },
        schedule: None,
        schedule_version: 1,
        slots: Mutex::new(
            taken
                .iter()
                .map(|&(start, taken)| {
                    let seats = SlotSeats {
                        taken,
                        ..SlotSeats::default()
                    };
                    (start, seats)
                })
                .collect(),
        ),
        loaded_at: Instant::now(),
    }
}

async fn loaded(view: DoctorView) -> anyhow::Result<Option<DoctorView>> {
    Ok(Some(view))
}

async fn must_not_load() -> anyhow::Result<Option<DoctorView>> {
    panic!("a kept, fresh view is used without loading")
}

/// The doctor's view as a request gets it, with `load` standing in for the database.
async fn read(
    views: &Availability,
    doctor: Uuid,
    load: impl Future<Output = anyhow::Result<Option<DoctorView>>>,
) -> Arc<DoctorView> {
    views
        .doctor_loaded_by(doctor, load)
        .await
        .unwrap()
        .expect("the doctor exists")
}

#[tokio::test]
async fn a_view_read_while_a_seat_was_taken_elsewhere_is_brought_up_to_date_and_kept() {
    let views = Availability::new();
    let doctor = Uuid::now_v7();
    let ann = Uuid::now_v7();
    // The load reads "nothing taken"; before it returns, another instance's notice says
    // Ann took the 09:00 seat. The notice finds no entry to update.
    let first = read(&views, doctor, async {
        views.apply(&SeatNotice {
            origin: Uuid::now_v7(),
            doctor_id: doctor,
            slot: Some((NINE, 1)),
            patient: Some(ann),
        });
        Ok(Some(view(doctor, &[])))
    })
    .await;
    // The notice is replayed onto the load: its request and the next ones see the seat.
    assert_eq!(first.taken(NINE), 1);
    assert_eq!(first.ever_held_by(NINE, ann), Some(true));
    assert_eq!(first.ever_held_by(NINE, Uuid::now_v7()), Some(false));
    let kept = read(&views, doctor, must_not_load()).await;
    assert!(Arc::ptr_eq(&first, &kept));
}

#[tokio::test]
async fn a_seat_freed_during_a_load_voids_it() {
    let views = Availability::new();
    let doctor = Uuid::now_v7();
    // The load read 09:00 taken; meanwhile its appointment was cancelled (the doctor is
    // forgotten). Kept, the load would show the freed seat as taken for 5 s.
    let first = read(&views, doctor, async {
        views.forget(doctor);
        Ok(Some(view(doctor, &[(NINE, 1)])))
    })
    .await;
    assert_eq!(
        first.taken(NINE),
        1,
        "the load still answers its own request"
    );
    let again = read(&views, doctor, loaded(view(doctor, &[]))).await;
    assert_eq!(again.taken(NINE), 0);
    read(&views, doctor, must_not_load()).await;
}

#[tokio::test]
async fn a_change_of_another_doctor_or_an_own_notice_does_not_void_a_load() {
    let views = Availability::new();
    let (doctor, other) = (Uuid::now_v7(), Uuid::now_v7());
    read(&views, doctor, async {
        views.note(other, NINE, 1, None);
        views.apply(&SeatNotice {
            origin: views.instance,
            doctor_id: doctor,
            slot: None,
            patient: None,
        });
        Ok(Some(view(doctor, &[])))
    })
    .await;
    read(&views, doctor, must_not_load()).await;
}

#[tokio::test]
async fn forgetting_everything_during_a_load_voids_it() {
    let views = Availability::new();
    let doctor = Uuid::now_v7();
    read(&views, doctor, async {
        views.forget_all();
        Ok(Some(view(doctor, &[])))
    })
    .await;
    let again = read(&views, doctor, loaded(view(doctor, &[(NINE, 1)]))).await;
    assert_eq!(again.taken(NINE), 1);
}

#[tokio::test]
async fn a_local_commit_during_a_load_is_replayed_onto_it_and_updates_the_kept_view() {
    let views = Availability::new();
    let doctor = Uuid::now_v7();
    let kept = read(&views, doctor, async {
        views.note(doctor, NINE, 1, None);
        Ok(Some(view(doctor, &[])))
    })
    .await;
    assert_eq!(kept.taken(NINE), 1, "the commit noted during the load");
    views.note(doctor, NINE + 1_800, 1, None);
    assert_eq!(kept.taken(NINE + 1_800), 1);
    let same = read(&views, doctor, must_not_load()).await;
    assert!(Arc::ptr_eq(&kept, &same));
}

#[tokio::test]
async fn a_load_overtaken_by_more_changes_than_are_kept_is_not_kept() {
    let views = Availability::new();
    let doctor = Uuid::now_v7();
    read(&views, doctor, async {
        for i in 0..=MAX_NOTES as i64 {
            views.note(doctor, NINE + 600 * i, 1, None);
        }
        Ok(Some(view(doctor, &[])))
    })
    .await;
    let again = read(&views, doctor, loaded(view(doctor, &[(NINE, 1)]))).await;
    assert_eq!(again.taken(NINE), 1);
    read(&views, doctor, must_not_load()).await;
}

#[tokio::test]
async fn the_view_vouches_for_a_slots_holders_only_when_it_heard_of_every_seat() {
    let views = Availability::new();
    let doctor = Uuid::now_v7();
    let (ann, bo, cy) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    // Two seats; the load found Ann holding one and Cy's cancelled appointment.
    let mut loaded_view = view(doctor, &[]);
    loaded_view.slots = Mutex::new(HashMap::from([(
        NINE,
        SlotSeats {
            taken: 1,
            holders: vec![ann],
            former: vec![cy],
        },
    )]));
    let kept = read(&views, doctor, loaded(loaded_view)).await;
    assert_eq!(kept.ever_held_by(NINE, bo), Some(false));
    assert_eq!(
        kept.ever_held_by(NINE, cy),
        Some(true),
        "a former holder may be retrying"
    );
    assert_eq!(
        kept.ever_held_by(NINE + 600, bo),
        Some(false),
        "nobody there"
    );

    // The database refuses a booking as full before Bo's commit is heard of: two seats
    // taken, one holder known, so the view cannot say who else holds one.
    views.note(doctor, NINE, 2, None);
    assert_eq!(kept.taken(NINE), 2);
    assert_eq!(kept.ever_held_by(NINE, ann), Some(true));
    assert_eq!(kept.ever_held_by(NINE, cy), Some(true));
    let stranger = Uuid::now_v7();
    assert_eq!(kept.ever_held_by(NINE, stranger), None);

    // Bo's commit arrives (from another instance, with the patient): every seat's holder
    // is known again. A late, lower count does not lower it.
    views.apply(&SeatNotice {
        origin: Uuid::now_v7(),
        doctor_id: doctor,
        slot: Some((NINE, 2)),
        patient: Some(bo),
    });
    views.note(doctor, NINE, 1, Some(ann));
    assert_eq!(kept.taken(NINE), 2);
    assert_eq!(kept.ever_held_by(NINE, bo), Some(true));
    assert_eq!(kept.ever_held_by(NINE, stranger), Some(false));

    // A notice without a patient (an older instance) leaves a seat unexplained.
    views.apply(&SeatNotice {
        origin: Uuid::now_v7(),
        doctor_id: doctor,
        slot: Some((NINE + 600, 1)),
        patient: None,
    });
    assert_eq!(kept.ever_held_by(NINE + 600, stranger), None);
}

#[tokio::test]
async fn an_ageing_view_is_reloaded_by_one_request_while_the_others_keep_using_it() {
    let views = Availability::new();
    let doctor = Uuid::now_v7();
    let mut old = view(doctor, &[(NINE, 1)]);
    old.loaded_at = Instant::now() - (views.refresh_after(doctor) + Duration::from_millis(200));
    let old = Arc::new(old);
    views.known().doctors.insert(doctor, old.clone());
    let loads = std::sync::atomic::AtomicUsize::new(0);
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    // The first request reloads; its load waits until the others have been answered.
    let refresher = read(&views, doctor, async {
        loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = released.await;
        Ok(Some(view(doctor, &[(NINE, 1), (NINE + 600, 1)])))
    });
    let others = async {
        tokio::task::yield_now().await;
        let mut answered = Vec::new();
        for _ in 0..20 {
            answered.push(read(&views, doctor, must_not_load()).await);
        }
        let _ = release.send(());
        answered
    };
    let (refreshed, answered) = tokio::join!(refresher, others);
    assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(
        answered.iter().all(|v| Arc::ptr_eq(v, &old)),
        "no request waited"
    );
    assert_eq!(refreshed.taken(NINE + 600), 1);
    let kept = read(&views, doctor, must_not_load()).await;
    assert!(Arc::ptr_eq(&kept, &refreshed), "the reload is kept");
    assert!(views.known().loading.is_empty(), "nothing left of the load");
}

#[tokio::test]
async fn requests_arriving_during_a_load_wait_for_it_instead_of_loading_again() {
    let views = Availability::new();
    let doctor = Uuid::now_v7();
    let loads = std::sync::atomic::AtomicUsize::new(0);
    let reads = (0..20).map(|_| {
        read(&views, doctor, async {
            loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Some(view(doctor, &[(NINE, 1)])))
        })
    });
    let answered = futures::future::join_all(reads).await;
    assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(answered.iter().all(|v| Arc::ptr_eq(v, &answered[0])));
    assert!(views.known().loading.is_empty(), "nothing left of the load");
}

#[test]
fn each_doctor_reloads_at_a_fixed_point_in_the_last_quarter_of_its_entrys_freshness() {
    for (views, fresh) in [
        (Availability::new(), FRESH_FOR),
        (
            Availability::fresh_for(FRESH_FOR_SOLE_WRITER),
            FRESH_FOR_SOLE_WRITER,
        ),
    ] {
        let ages: Vec<Duration> = (0..200)
            .map(|_| views.refresh_after(Uuid::now_v7()))
            .collect();
        assert!(
            ages.iter()
                .all(|age| *age >= fresh * 7 / 10 && *age <= fresh * 19 / 20),
            "{ages:?}"
        );
        // Spread, so the doctors loaded together do not reload together.
        let (min, max) = (ages.iter().min().unwrap(), ages.iter().max().unwrap());
        assert!(*max - *min > fresh / 8, "{min:?}..{max:?}");
        let doctor = Uuid::now_v7();
        assert_eq!(views.refresh_after(doctor), views.refresh_after(doctor));
    }
}
