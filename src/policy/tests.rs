use super::*;

#[test]
fn defaults_are_spec_values_and_valid() {
    let p = Policy::default();
    assert_eq!(Policy::builder().build().as_ref(), Ok(&p));
    assert_eq!(p.resend_wait(1), Some(TimeDelta::days(90)));
    assert_eq!(p.resend_wait(2), Some(TimeDelta::days(365)));
    assert_eq!(p.resend_wait(3), None);
    assert_eq!(p.note_max_chars(Tier::Free), 200);
    assert_eq!(p.note_max_chars(Tier::Premium(0)), 300);
    assert_eq!(p.withdraw_cooldown(), TimeDelta::days(21));
    assert_eq!(p.pending_expiry(), TimeDelta::days(180));
}

#[test]
fn invalid_values_are_refused() {
    let b = Policy::builder;
    assert!(b().min_shared_connections(0).build().is_err());
    assert!(b().first_resend_wait(TimeDelta::days(89)).build().is_err());
    assert!(b().first_resend_wait(TimeDelta::days(183)).build().is_ok());
    assert!(b().first_resend_wait(TimeDelta::days(184)).build().is_err());
    assert_eq!(
        b().second_resend_wait(TimeDelta::days(80)).build(),
        Err(PolicyError::SecondResendWait)
    );
    assert!(b().pending_expiry(TimeDelta::zero()).build().is_err());
    assert!(b().max_attempts(0).build().is_err());
    let heavy = DiscoveryPolicy {
        school: DiscoveryPolicy::MAX_WEIGHT + 1,
        ..DiscoveryPolicy::default()
    };
    assert_eq!(b().discovery(heavy).build(), Err(PolicyError::Discovery));
    let no_budget = DiscoveryPolicy {
        expansion_budget: 0,
        ..DiscoveryPolicy::default()
    };
    assert_eq!(
        b().discovery(no_budget).build(),
        Err(PolicyError::Discovery)
    );
}
