//! The API's shapes that keep a host from a mistake: an edit of a member
//! that cannot drop a field it did not touch; a policy loaded from a
//! configuration file through the builder's validation; invitations to
//! join with a note, listed for their sender, withdrawable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::member::Kind;
use pronet::record::{Key, Record};
use pronet::{
    Committed, Email, Event, InvitationId, InviteOutcome, Member, MemberId, MemoryStore, Network,
    Note, Refusal, Seen, Store, Tier,
};
use pronet::{ManualClock, Policy, PolicyConfig, PolicyError, Profile, TimeDelta};
use support::withdrawn_event;
use support::{World, email_of, m, refusal, sent_id};

/// The member as stored.
fn stored(net: &Network<MemoryStore, ManualClock>, id: MemberId) -> Member {
    match net.store().get(&Key::Member(id)).unwrap().map(|v| v.value) {
        Some(Record::Member(member)) => member,
        other => panic!("{other:?}"),
    }
}

/// The old trap: rebuilding a member to change their tier dropped their
/// email addresses, and contact matching silently stopped. An edit changes
/// the stored member in place: the addresses stay, and a sender proving
/// one still reaches the member.
#[test]
fn c1_an_edit_of_the_tier_keeps_the_email_addresses() {
    let w = World::new();
    let (ana, bo) = (w.person(m(1)), w.person(m(2)));
    let before = stored(&w.net, bo);
    assert_eq!(before.emails.len(), 1);
    let _ = w
        .net
        .update_member(bo, |b| b.tier = Tier::Premium(0))
        .unwrap();
    let after = stored(&w.net, bo);
    assert_eq!(after.tier, Tier::Premium(0));
    assert_eq!(after.emails, before.emails);
    assert_eq!(after.profile, before.profile);
    assert_eq!(after.invite_preference, before.invite_preference);
    // The address still proves the member: matching did not stop.
    let _ = sent_id(
        &w.net
            .send(pronet::SendRequest::new(ana, bo).proof(&email_of(bo)))
            .unwrap(),
    );
}

/// What an edit may not change (id, kind, activity) stays as stored,
/// whatever the closure does; an edit that changes nothing commits nothing.
#[test]
fn an_edit_cannot_change_the_id_kind_or_activity() {
    let w = World::new();
    let ana = w.person(m(1));
    let done = w
        .net
        .update_member(ana, |a| {
            a.id = m(99);
            a.kind = Kind::Company;
            a.active = false;
            a.profile.headline = "Engineer".into();
        })
        .unwrap();
    assert!(done.events.is_empty());
    let after = stored(&w.net, ana);
    assert_eq!(
        (after.id, after.kind, after.active),
        (ana, Kind::Person, true)
    );
    assert_eq!(after.profile.headline, "Engineer");
    assert!(w.net.store().get(&Key::Member(m(99))).unwrap().is_none());
    let snapshot = w.net.store().snapshot();
    let unchanged = w.net.update_member(ana, |_| {}).unwrap();
    assert!(unchanged.events.is_empty());
    assert_eq!(w.net.store().snapshot(), snapshot);
}

/// An edit of a member never registered, or deactivated, is refused as
/// unknown, and the closure's result is never stored.
#[test]
fn an_edit_of_an_unknown_or_deactivated_member_is_refused() {
    let w = World::new();
    let gone = w.person(m(3));
    let _ = w.net.deactivate(gone).unwrap();
    for id in [m(3), m(404)] {
        let snapshot = w.net.store().snapshot();
        assert_eq!(
            refusal(w.net.update_member(id, |x| x.tier = Tier::Premium(0))),
            Refusal::UnknownMember(id)
        );
        assert_eq!(w.net.store().snapshot(), snapshot);
    }
    // Registering is still how a member comes to be.
    let _ = w
        .net
        .register(Member::person(m(404), Profile::named("New")))
        .unwrap();
}

/// A policy from a JSON configuration: given settings applied, the rest
/// the defaults, exactly as the builder would make it.
#[test]
fn a_policy_loads_from_json_as_the_builder_makes_it() {
    let json = r#"{
        "min_shared_connections": 2,
        "note_max_chars_free": 150,
        "withdraw_cooldown": "14d",
        "first_resend_wait": "120d",
        "second_resend_wait": "400d",
        "reblock_wait": "72h",
        "max_clock_skew": "30m",
        "max_blocks": 500
    }"#;
    let built = Policy::builder()
        .min_shared_connections(2)
        .note_max_chars_free(150)
        .withdraw_cooldown(TimeDelta::days(14))
        .first_resend_wait(TimeDelta::days(120))
        .second_resend_wait(TimeDelta::days(400))
        .reblock_wait(TimeDelta::hours(72))
        .max_clock_skew(TimeDelta::minutes(30))
        .max_blocks(500)
        .build()
        .unwrap();
    let config: PolicyConfig = serde_json::from_str(json).unwrap();
    assert_eq!(config.clone().build().unwrap(), built);
    assert_eq!(serde_json::from_str::<Policy>(json).unwrap(), built);
    assert_eq!(
        serde_json::from_str::<Policy>("{}").unwrap(),
        Policy::default()
    );
}

/// Every setting of the builder loads from a TOML file, quotas per tier,
/// import limits and profile limits included, exactly as the builder makes
/// it; standing and discovery load in their serde form.
#[test]
fn every_policy_setting_loads_from_toml() {
    let toml = r#"
        min_shared_connections = 3
        note_max_chars_free = 150
        note_max_chars_paid = 250
        withdraw_cooldown = "14d"
        pending_expiry = "120d"
        first_resend_wait = "100d"
        second_resend_wait = "300d"
        max_connections = 1000
        max_attempts = 4
        max_outstanding = 50
        reblock_wait = "72h"
        max_clock_skew = "30m"
        max_blocks = 500
        max_join_invitations_per_address = 2
        note_retention = "90d"

        [invitation_quotas]
        free = { limit = 100, window = "7d" }
        premium = { limit = 500, window = "30d" }
        "premium:3" = { limit = 900, window = "30d" }

        [note_quotas]
        free = { limit = 5, window = "30d" }
        premium = "unlimited"

        [import_limits]
        max_bytes = 65536
        max_rows = 5000
        max_field_bytes = 512
        max_fields = 64

        [profile_limits]
        headline_chars = 120
        skills = 50
    "#;
    let q = |limit, days| pronet::quota::Quota::new(limit, TimeDelta::days(days)).unwrap();
    let mut profile = pronet::member::ProfileLimits::default();
    profile.headline_chars = 120;
    profile.skills = 50;
    let built = Policy::builder()
        .min_shared_connections(3)
        .note_max_chars_free(150)
        .note_max_chars_paid(250)
        .withdraw_cooldown(TimeDelta::days(14))
        .pending_expiry(TimeDelta::days(120))
        .first_resend_wait(TimeDelta::days(100))
        .second_resend_wait(TimeDelta::days(300))
        .max_connections(1000)
        .max_attempts(4)
        .max_outstanding(50)
        .reblock_wait(TimeDelta::hours(72))
        .max_clock_skew(TimeDelta::minutes(30))
        .max_blocks(500)
        .max_join_invitations_per_address(2)
        .note_retention(TimeDelta::days(90))
        .invitation_quota(Tier::Free, q(100, 7))
        .invitation_quota(Tier::Premium(0), q(500, 30))
        .invitation_quota(Tier::Premium(3), q(900, 30))
        .note_quota(Tier::Free, Some(q(5, 30)))
        .note_quota(Tier::Premium(0), None)
        .import_limits(
            pronet::contacts::ImportLimits::new(65_536, 5_000, 512)
                .unwrap()
                .with_max_fields(64)
                .unwrap(),
        )
        .profile_limits(profile)
        .build()
        .unwrap();
    let config: PolicyConfig = toml::from_str(toml).unwrap();
    let policy = config.build().unwrap();
    assert_eq!(policy, built);
    assert_eq!(toml::from_str::<Policy>(toml).unwrap(), built);
    assert_eq!(policy.invitation_quota(Tier::Premium(7)), q(900, 30));
    assert_eq!(policy.note_quota(Tier::Premium(1)), None);
    assert_eq!(policy.import_limits().max_rows(), 5_000);
    assert_eq!(policy.profile_limits().skills, 50);

    // Standing and discovery, in the serde form of their types.
    let mut standing = pronet::standing::StandingPolicy::default();
    standing.warn_at = 2;
    let mut discovery = pronet::discovery::DiscoveryPolicy::default();
    discovery.mutual = 12;
    let json = serde_json::json!({ "standing": standing, "discovery": discovery });
    let config: PolicyConfig = serde_json::from_value(json).unwrap();
    let built = Policy::builder()
        .standing(standing)
        .discovery(discovery)
        .build()
        .unwrap();
    assert_eq!(config.build().unwrap(), built);
}

/// A bad quota, tier, import limit or profile limit in a file is refused
/// with the builder's typed error; a malformed one is refused when read.
#[test]
fn a_bad_quota_or_limit_in_a_policy_file_is_refused_with_a_typed_error() {
    let build = |text: &str| toml::from_str::<PolicyConfig>(text).unwrap().build();
    assert_eq!(
        build("[invitation_quotas]\nfree = { limit = 0, window = \"30d\" }"),
        Err(PolicyError::Quota { tier: Tier::Free })
    );
    assert_eq!(
        build("[note_quotas]\n\"premium:2\" = { limit = 3, window = \"0d\" }"),
        Err(PolicyError::Quota {
            tier: Tier::Premium(2)
        })
    );
    // A paid tier may not get less than the free one.
    assert_eq!(
        build("[invitation_quotas]\npremium = { limit = 10, window = \"30d\" }"),
        Err(PolicyError::TierQuotas)
    );
    for tier in ["gold", "premium:", "premium:256", "premium:-1", "Free"] {
        assert_eq!(
            build(&format!(
                "[invitation_quotas]\n\"{tier}\" = {{ limit = 10, window = \"30d\" }}"
            )),
            Err(PolicyError::UnknownTier(tier.to_owned()))
        );
    }
    assert!(matches!(
        build("[import_limits]\nmax_rows = 0"),
        Err(PolicyError::ImportLimits(pronet::contacts::LimitError {
            name: "max_rows",
            ..
        }))
    ));
    assert!(matches!(
        build("[import_limits]\nmax_fields = 100000"),
        Err(PolicyError::ImportLimits(pronet::contacts::LimitError {
            name: "max_fields",
            ..
        }))
    ));
    assert_eq!(
        build("[profile_limits]\nskills = 0"),
        Err(PolicyError::ProfileLimits)
    );
    assert_eq!(
        build("note_retention = \"0d\""),
        Err(PolicyError::NotPositive("note_retention"))
    );
    for bad in [
        "[note_quotas]\nfree = \"none\"",
        "[invitation_quotas]\nfree = \"unlimited\"",
        "[invitation_quotas]\nfree = { limit = 10 }",
        "[invitation_quotas]\nfree = { limit = 10, window = \"30d\", burst = 2 }",
        "[import_limits]\nmax_lines = 10",
        "[profile_limits]\nhobbies = 10",
    ] {
        assert!(toml::from_str::<PolicyConfig>(bad).is_err(), "{bad}");
        assert!(toml::from_str::<Policy>(bad).is_err(), "{bad}");
    }
}

/// Every value the builder refuses is refused from a file too, with the
/// builder's typed error; unknown settings and malformed durations are
/// refused when read.
#[test]
fn an_invalid_policy_file_is_refused_with_a_typed_error() {
    let build = |json: &str| serde_json::from_str::<PolicyConfig>(json).unwrap().build();
    assert_eq!(
        build(r#"{"first_resend_wait": "30d"}"#),
        Err(PolicyError::FirstResendWait(TimeDelta::days(30)))
    );
    assert_eq!(
        build(r#"{"first_resend_wait": "150d", "second_resend_wait": "100d"}"#),
        Err(PolicyError::SecondResendWait)
    );
    assert_eq!(
        build(r#"{"reblock_wait": "0h"}"#),
        Err(PolicyError::NotPositive("reblock_wait"))
    );
    assert!(matches!(
        build(r#"{"max_attempts": 0}"#),
        Err(PolicyError::OutOfRange {
            name: "max_attempts",
            ..
        })
    ));
    // Through `Policy`'s own Deserialize: the same rule, in serde's error.
    let err = serde_json::from_str::<Policy>(r#"{"first_resend_wait": "30d"}"#).unwrap_err();
    assert!(err.to_string().contains("90 to 183 days"), "{err}");
    // Malformed input never becomes a policy.
    for bad in [
        r#"{"max_blocks": -1}"#,
        r#"{"reblock_wait": "48"}"#,
        r#"{"reblock_wait": "h"}"#,
        r#"{"reblock_wait": "-5h"}"#,
        r#"{"reblock_wait": "5 h"}"#,
        r#"{"reblock_wait": "5w"}"#,
        r#"{"reblock_wait": "99999999999999999999d"}"#,
        r#"{"reblock_wait": 48}"#,
        r#"{"reblok_wait": "48h"}"#,
    ] {
        assert!(serde_json::from_str::<PolicyConfig>(bad).is_err(), "{bad}");
        assert!(serde_json::from_str::<Policy>(bad).is_err(), "{bad}");
    }
}

/// The inbox of `member`: (id, note) of each row.
fn inbox(w: &World, member: MemberId) -> Vec<(InvitationId, Option<String>)> {
    w.net
        .inbox(member, None, support::whole())
        .unwrap()
        .items
        .iter()
        .map(|l| (l.invitation, l.note.as_ref().map(|n| n.as_str().to_owned())))
        .collect()
}

fn join_id(done: &Committed<InviteOutcome>) -> InvitationId {
    match done.outcome {
        InviteOutcome::Invited(id) => id,
        other => panic!("{other:?}"),
    }
}

/// C (invitations to join): a note goes with an invitation to join: in
/// the mail for the address, in the sender's list of invitations to join,
/// and in the invitation it becomes when the address joins, which then
/// leaves that list for `sent`.
#[test]
fn c_an_invitation_to_join_carries_its_note_and_is_listed_for_its_sender() {
    let w = World::new();
    let ana = w.person(m(1));
    let address = Email::parse("New.Person@Example.org").unwrap();
    let done = w
        .net
        .invite_to_join_with_note(ana, &address, "Join us at ACME")
        .unwrap();
    let id = join_id(&done);
    let note = Note::parse("Join us at ACME", 300).unwrap();
    assert!(matches!(
        &done.mail[..],
        [Event::JoinInvitationReceived { note: n, .. }] if *n == note
    ));
    let listed = w.net.sent_join_invitations(ana).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].invitation, id);
    assert_eq!(listed[0].email, address);
    assert_eq!(listed[0].note, note);
    // Nobody else's list shows it.
    assert!(
        w.net
            .sent_join_invitations(w.person(m(2)))
            .unwrap()
            .is_empty()
    );
    // The address joins: the invitation, note included, reaches them.
    let newcomer =
        w.register(Member::person(m(3), Profile::named("New")).with_email(address.clone(), true));
    assert_eq!(
        inbox(&w, newcomer),
        vec![(id, Some("Join us at ACME".to_owned()))]
    );
    assert!(w.net.sent_join_invitations(ana).unwrap().is_empty());
    let sent = w.net.sent(ana, None, support::whole()).unwrap();
    assert_eq!(sent.items[0].invitation, id);
}

/// An invalid note is refused as an invitation's is, and nothing is
/// recorded; a blank one is no note.
#[test]
fn c_an_invitation_to_join_with_an_invalid_note_is_refused() {
    let w = World::new();
    let ana = w.person(m(1));
    let address = Email::parse("someone@example.org").unwrap();
    let snapshot = w.net.store().snapshot();
    assert!(matches!(
        refusal(
            w.net
                .invite_to_join_with_note(ana, &address, &"x".repeat(201))
        ),
        Refusal::InvalidNote(_)
    ));
    assert_eq!(w.net.store().snapshot(), snapshot);
    let done = w
        .net
        .invite_to_join_with_note(ana, &address, "   ")
        .unwrap();
    assert!(matches!(
        &done.mail[..],
        [Event::JoinInvitationReceived { note: None, .. }]
    ));
}

/// C: the sender withdraws an invitation to join through `withdraw`, with
/// its id: it leaves their list, is never delivered, cannot be sent again,
/// and a second withdraw changes nothing; nobody else may withdraw it.
#[test]
fn c_the_sender_withdraws_an_invitation_to_join() {
    let w = World::new();
    let (ana, bo) = (w.person(m(1)), w.person(m(2)));
    let address = Email::parse("late@example.org").unwrap();
    let id = join_id(&w.net.invite_to_join(ana, &address).unwrap());
    assert_eq!(
        refusal(w.net.withdraw(bo, id)),
        Refusal::InvitationNotFound(id)
    );
    let done = w.net.withdraw(ana, id).unwrap();
    assert_eq!(done.events, vec![withdrawn_event(id, ana)]);
    assert!(done.mail.is_empty());
    assert!(w.net.sent_join_invitations(ana).unwrap().is_empty());
    let again = w.net.withdraw(ana, id).unwrap();
    assert!(again.events.is_empty());
    assert_eq!(
        refusal(w.net.invite_to_join(ana, &address)),
        Refusal::NotPending {
            seen: Seen::Withdrawn
        }
    );
    let newcomer =
        w.register(Member::person(m(3), Profile::named("Late")).with_email(address.clone(), true));
    assert!(inbox(&w, newcomer).is_empty());
    // Expired ones can no longer be withdrawn; nor listed.
    let other = Email::parse("old@example.org").unwrap();
    let old = join_id(&w.net.invite_to_join(ana, &other).unwrap());
    w.at(support::days(180));
    assert!(w.net.sent_join_invitations(ana).unwrap().is_empty());
    assert_eq!(
        refusal(w.net.withdraw(ana, old)),
        Refusal::NotPending {
            seen: Seen::Expired
        }
    );
}

/// B7 / C: the sender's list and withdraw answer alike whether nobody has
/// the address or a member keeps it undiscoverable.
#[test]
fn b7_the_sent_list_of_invitations_to_join_is_no_membership_oracle() {
    let run = |owner: bool| {
        let w = World::new();
        let ana = w.person(m(1));
        let address = Email::parse("hidden@example.org").unwrap();
        if owner {
            w.register(
                Member::person(m(9), Profile::named("Hidden")).with_email(address.clone(), false),
            );
        }
        let done = w
            .net
            .invite_to_join_with_note(ana, &address, "Hello")
            .unwrap();
        let id = join_id(&done);
        let listed = format!("{:?}", w.net.sent_join_invitations(ana).unwrap());
        let withdrawn = w.net.withdraw(ana, id).unwrap();
        (
            done.outcome,
            done.events,
            listed,
            withdrawn.events,
            format!("{:?}", w.net.sent_join_invitations(ana).unwrap()),
        )
    };
    assert_eq!(run(false), run(true));
}
