//! The main example: a small network, degrees and mutual connections, two
//! members who meet through a shared connection, one inviting the other
//! with a note, and then people Ana may know, with the reasons why.

use pronet::{
    Degree, Email, Event, GroupId, ManualClock, Member, MemberId, MemoryStore, Network, PageSize,
    Policy, Profile, Reason, SearchQuery, SendOutcome, SendRequest, Timestamp,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Timestamp::from_micros(1_767_225_600_000_000)); // 2026-01-01
    let net = Network::open(MemoryStore::new(), clock.clone(), Policy::default())?;
    // Every committed operation hands back its events; a host publishes them
    // (notifications, emails). Here they are collected.
    let mut outbox: Vec<Event> = Vec::new();

    let names = ["Ana", "Bo", "Cy", "Dee", "Eli"];
    let ids: Vec<MemberId> = (1..=5).map(MemberId::new).collect();
    for (&id, name) in ids.iter().zip(names) {
        let email = Email::parse(&format!("{}@example.com", name.to_lowercase()))?;
        let member = Member::person(id, Profile::named(name)).with_email(email, true);
        outbox.extend(net.register(member)?.events);
    }
    let [ana, bo, cy, dee, eli] = [ids[0], ids[1], ids[2], ids[3], ids[4]];

    // Bo knows everyone's address book entry, so Bo can invite them all.
    for (&friend, name) in [cy, dee, eli].iter().zip(["cy", "dee", "eli"]) {
        let email = Email::parse(&format!("{name}@example.com"))?;
        let sent = net.send(SendRequest::new(bo, friend).proof(&email))?;
        outbox.extend(sent.events);
        if let SendOutcome::Sent(invitation) = sent.outcome {
            outbox.extend(net.accept(friend, invitation)?.events);
        }
    }
    let ana_email = Email::parse("ana@example.com")?;
    let sent = net.send(SendRequest::new(bo, ana).proof(&ana_email))?;
    outbox.extend(sent.events);
    if let SendOutcome::Sent(invitation) = sent.outcome {
        outbox.extend(net.accept(ana, invitation)?.events);
    }
    println!("{} events so far", outbox.len());

    let show = |label: &str| -> Result<(), pronet::GraphError> {
        let g = net.graph();
        println!("{label}");
        for (&other, name) in ids.iter().zip(names).skip(1) {
            println!(
                "  Ana -> {name:<3}: {:?}, {} mutual",
                g.degree(ana, other)?,
                g.mutual_count(ana, other)?
            );
        }
        Ok(())
    };
    show("Ana's network after connecting with Bo:")?;

    // Ana and Cy meet through Bo: Ana may invite Cy, with a personal note.
    let sent = net.send(
        SendRequest::new(ana, cy)
            .note("Hi Cy, Bo says you run the data team. Would love to connect."),
    )?;
    let SendOutcome::Sent(invitation) = sent.outcome else {
        return Err("expected a new invitation".into());
    };
    for event in &sent.events {
        println!("event for {:?}: {event:?}", event.audience());
    }
    let inbox = net.inbox(cy, None, PageSize::default())?;
    for item in &inbox.items {
        println!(
            "Cy's inbox: from {} ({} mutual): {:?}",
            item.other,
            item.mutual_connections,
            item.note.as_ref().map(|n| n.as_str())
        );
    }

    let accepted = net.accept(cy, invitation)?;
    for event in &accepted.events {
        println!("event for {:?}: {event:?}", event.audience());
    }
    assert_eq!(net.graph().degree(ana, cy)?, Degree::First);
    show("Ana's network after Cy accepted:")?;
    println!(
        "Ana's second-degree network: {} members",
        net.graph().second_degree_count(ana)?
    );

    // Discovery: Ana and Eli work at Acme, Ana and Dee share a group.
    let acme = MemberId::new(100);
    outbox.extend(
        net.register(Member::company(acme, Profile::named("Acme")))?
            .events,
    );
    for (id, name) in [(ana, "Ana"), (eli, "Eli")] {
        let mut profile = Profile::named(name);
        profile.headline = "Engineer".into();
        profile.current_companies = vec![acme];
        let email = Email::parse(&format!("{}@example.com", name.to_lowercase()))?;
        outbox.extend(
            net.update_member(id, |m| {
                m.profile = profile.clone();
                m.add_email(email.clone(), true);
            })?
            .events,
        );
    }
    let rustaceans = GroupId::new(7);
    outbox.extend(net.join_group(ana, rustaceans)?.events);
    outbox.extend(net.join_group(dee, rustaceans)?.events);
    let name = |id: MemberId| names[ids.iter().position(|&i| i == id).unwrap_or(0)];
    println!("People Ana may know:");
    for s in net.people_you_may_know(ana, PageSize::new(5)?)? {
        let reasons: Vec<String> = s
            .reasons
            .iter()
            .map(|r| match r {
                Reason::MutualConnections(n) => format!("{n} mutual connection(s)"),
                Reason::CurrentCompany(c) if *c == acme => "also works at Acme".into(),
                Reason::Group(g) if *g == rustaceans => "also in Rustaceans".into(),
                other => format!("{other:?}"),
            })
            .collect();
        println!(
            "  {:<3} (score {}): {}",
            name(s.member),
            s.score,
            reasons.join(", ")
        );
    }
    outbox.extend(net.dismiss(ana, dee)?.events);
    let left: Vec<&str> = net
        .people_you_may_know(ana, PageSize::new(5)?)?
        .iter()
        .map(|s| name(s.member))
        .collect();
    println!("After dismissing Dee: {left:?}");
    let found = net.search(
        ana,
        &SearchQuery::keywords("engineer"),
        None,
        PageSize::default(),
    )?;
    for hit in &found.items {
        println!(
            "Search \"engineer\": {} ({:?}, {} mutual)",
            name(hit.member),
            hit.degree,
            hit.mutual_connections
        );
    }
    Ok(())
}
