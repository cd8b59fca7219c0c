//! The discovery side of [`Network`] (people you may know, people search,
//! company pages, and the follows and groups they use): thin shells over
//! [`crate::discovery`].

use super::{Fetched, Network};
use crate::contacts;
use crate::discovery::decide::{self, Facts};
use crate::discovery::pymk::{self, PymkFacts};
use crate::discovery::search::{self, DegreeFilter, SearchCursor, SearchHit, SearchQuery};
use crate::discovery::{DiscoveryIndex, Dismissals, Follows, Memberships, PymkCursor, Suggestion};
use crate::error::{Error, Refusal};
use crate::id::{GroupId, MemberId, PairKey};
use crate::invitation::PairState;
use crate::member::{EmailOwner, Kind, Member};
use crate::page::{Page, PageSize};
use crate::record::{Key, Record};
use crate::store::{Gather, Role, Store};
use crate::time::Clock;
use std::collections::BTreeSet;
use std::sync::{PoisonError, RwLockReadGuard};

impl<S: Store, C: Clock> Network<S, C> {
    /// The discovery index (profiles and groups of active persons), for
    /// calling [`crate::discovery`]'s pure functions directly. Hold the guard
    /// briefly: writers wait for it. When holding both guards, take the
    /// graph's first (for instance, call this inside
    /// [`with_view`](Self::with_view)): a writer holds the graph's while it
    /// waits for this one, so the other order can deadlock.
    pub fn discovery(&self) -> RwLockReadGuard<'_, DiscoveryIndex> {
        self.discovery
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `member` follows the company page `company`: one-way, no
    /// invitation; following twice changes nothing.
    ///
    /// # Errors
    /// The refusals of [`decide::follow`]; store failures; contention.
    pub fn follow(
        &self,
        member: MemberId,
        company: MemberId,
    ) -> Result<super::Committed<()>, Error> {
        let _op = super::trace::pair("follow", member, company);
        self.run(|_| {
            let facts = self.discovery_facts::<Follows>(member, company, Key::Follows(member))?;
            Ok(decide::follow(
                member,
                company,
                &facts,
                self.policy.discovery(),
            )?)
        })
    }

    /// `member` stops following `company`.
    ///
    /// # Errors
    /// The refusals of [`decide::unfollow`]; store failures; contention.
    pub fn unfollow(
        &self,
        member: MemberId,
        company: MemberId,
    ) -> Result<super::Committed<()>, Error> {
        let _op = super::trace::pair("unfollow", member, company);
        self.run(|_| {
            let facts = self.discovery_facts::<Follows>(member, company, Key::Follows(member))?;
            Ok(decide::unfollow(member, company, &facts)?)
        })
    }

    /// `member` joins `group`; shared groups count for people you
    /// may know and search.
    ///
    /// # Errors
    /// The refusals of [`decide::join_group`]; store failures; contention.
    pub fn join_group(
        &self,
        member: MemberId,
        group: GroupId,
    ) -> Result<super::Committed<()>, Error> {
        let _op = super::trace::member("join_group", member);
        self.run(|_| {
            let facts = self.group_facts(member)?;
            Ok(decide::join_group(
                member,
                group,
                &facts,
                self.policy.discovery(),
            )?)
        })
    }

    /// `member` leaves `group`.
    ///
    /// # Errors
    /// The refusals of [`decide::leave_group`]; store failures; contention.
    pub fn leave_group(
        &self,
        member: MemberId,
        group: GroupId,
    ) -> Result<super::Committed<()>, Error> {
        let _op = super::trace::member("leave_group", member);
        self.run(|_| {
            let facts = self.group_facts(member)?;
            Ok(decide::leave_group(member, group, &facts)?)
        })
    }

    /// `viewer` dismisses `candidate` from their people you may know; it is
    /// remembered (up to the policy's limit, see [`decide::dismiss`]).
    ///
    /// # Errors
    /// The refusals of [`decide::dismiss`]; store failures; contention.
    pub fn dismiss(
        &self,
        viewer: MemberId,
        candidate: MemberId,
    ) -> Result<super::Committed<()>, Error> {
        let _op = super::trace::pair("dismiss", viewer, candidate);
        self.run(|now| {
            let facts =
                self.discovery_facts::<Dismissals>(viewer, candidate, Key::Dismissed(viewer))?;
            Ok(decide::dismiss(
                viewer,
                candidate,
                &facts,
                self.policy.discovery(),
                now,
            )?)
        })
    }

    /// People `viewer` may know: at most `limit` suggestions, best
    /// first, each with its reasons; ranked as [`pymk`] describes.
    ///
    /// Never suggested: the viewer, their connections, anyone with a live
    /// pending invitation to or from the viewer (ignored and held ones
    /// included: they are pending as far as their sender can tell), members
    /// hidden by a block either way or deactivated, dismissed suggestions,
    /// and barred pairs: a member who rejected the viewer's invitation (the
    /// viewer was told), or whom the viewer rejected or answered "I don't
    /// know" (or reported). A member who answered the viewer's invitation
    /// with "I don't know" is *not* left out for that reason: the viewer was
    /// never told, and leaving them out would tell (an ignore is silent to
    /// its sender in every answer); while the
    /// invitation is pending they are left out as pending, like anyone.
    ///
    /// ```
    /// # use pronet::{Email, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, SendOutcome, Timestamp};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// # let SendOutcome::Sent(id) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
    /// # net.accept(bo, id)?;
    /// let cy = MemberId::new(3);
    /// let cy_email = Email::parse("cy@example.com")?;
    /// net.register(Member::person(cy, Profile::named("Cy")).with_email(cy_email.clone(), true))?;
    /// let SendOutcome::Sent(to_cy) = net.send(pronet::SendRequest::new(bo, cy).proof(&cy_email))?.outcome else { unreachable!() };
    /// net.accept(cy, to_cy)?;
    /// // Cy is Bo's connection, so someone Ana may know.
    /// let suggestions = net.people_you_may_know(ana, pronet::PageSize::default())?;
    /// assert_eq!(suggestions[0].member, cy);
    /// assert_eq!(suggestions[0].reasons, [pronet::Reason::MutualConnections(1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`] for an unknown or deactivated viewer;
    /// [`Refusal::NotAPerson`] for a company page; store failures.
    pub fn people_you_may_know(
        &self,
        viewer: MemberId,
        limit: PageSize,
    ) -> Result<Vec<Suggestion>, Error> {
        super::trace::member("people_you_may_know", viewer)
            .within(|| self.suggestions(viewer, None, limit.get()))
    }

    /// One page of `viewer`'s people you may know, after `after`: the same
    /// suggestions as [`people_you_may_know`](Self::people_you_may_know)
    /// with a larger limit, one page at a time. On an unchanged network,
    /// paging through returns each suggestion exactly once; see
    /// [`PymkCursor`] for what holds while the network changes.
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp, PageSize};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let acme = MemberId::new(100);
    /// # net.register(Member::company(acme, Profile::named("Acme")))?;
    /// # for i in 1..=5 {
    /// #     let mut p = Profile::named(format!("P{i}"));
    /// #     p.current_companies = vec![acme];
    /// #     net.register(Member::person(MemberId::new(i), p))?;
    /// # }
    /// let viewer = MemberId::new(1);
    /// let two = PageSize::new(2)?;
    /// let first = net.people_you_may_know_page(viewer, None, two)?;
    /// let second = net.people_you_may_know_page(viewer, first.next, two)?;
    /// let ids: Vec<_> = first.items.iter().chain(&second.items).map(|s| s.member.get()).collect();
    /// assert_eq!(ids, [2, 3, 4, 5]);
    /// assert_eq!(second.next, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`people_you_may_know`](Self::people_you_may_know).
    pub fn people_you_may_know_page(
        &self,
        viewer: MemberId,
        after: Option<PymkCursor>,
        size: PageSize,
    ) -> Result<Page<Suggestion, PymkCursor>, Error> {
        super::trace::member("people_you_may_know_page", viewer).within(|| {
            let mut items = self.suggestions(viewer, after, size.get() + 1)?;
            let next = if items.len() > size.get() {
                items.truncate(size.get());
                items.last().map(PymkCursor::from)
            } else {
                None
            };
            Ok(Page::new(items, next))
        })
    }

    /// At most `limit` of `viewer`'s suggestions ranked after `after`.
    fn suggestions(
        &self,
        viewer: MemberId,
        after: Option<PymkCursor>,
        limit: usize,
    ) -> Result<Vec<Suggestion>, Error> {
        self.fresh()?;
        let dismissed = [Key::Dismissed(viewer)];
        let (sight, gathered) = self.sight_gathering(
            viewer,
            Gather {
                keys: &dismissed,
                open_invitations: Some((viewer, Role::Sender)),
                ..Gather::default()
            },
        )?;
        if !self.discovery().contains(viewer) {
            // An active member who is not an indexed person: a company page.
            return Err(Refusal::NotAPerson(viewer).into());
        }
        let now = self.now();
        let mut open = gathered.open_invitations;
        open.extend(self.store.open_invitations(viewer, Role::Recipient)?);
        let mut fetched = Fetched::of(dismissed.to_vec(), gathered.records);
        let dismissals = self.take::<Dismissals>(&mut fetched, Key::Dismissed(viewer))?;
        let excluded = decide::pymk_excluded(
            viewer,
            &open,
            dismissals.as_ref().map(|d| &d.value),
            &self.policy,
            now,
        );
        let facts = PymkFacts {
            excluded,
            contacts: self.contact_owners(viewer)?,
        };
        let graph = self.graph();
        let index = self.discovery();
        let view = sight.view(&graph);
        let ranked = pymk::suggest_after(
            &view,
            viewer,
            &index,
            &facts,
            self.policy.discovery(),
            after,
            limit,
            |candidate| self.unbarred(viewer, candidate),
        )?;
        Ok(ranked.suggestions)
    }

    /// One page of `viewer`'s people search: see [`search`] for
    /// what matches, the order, and what the cursor guarantees while the
    /// network changes between pages.
    ///
    /// ```
    /// # use pronet::{Email, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, SendOutcome, Timestamp};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// # let SendOutcome::Sent(id) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
    /// let found = net.search(ana, &pronet::SearchQuery::keywords("bo"), None, pronet::PageSize::default())?;
    /// assert_eq!(found.items[0].member, bo);
    /// assert!(found.next.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`] for an unknown or deactivated viewer.
    pub fn search(
        &self,
        viewer: MemberId,
        query: &SearchQuery,
        after: Option<SearchCursor>,
        size: PageSize,
    ) -> Result<Page<SearchHit, SearchCursor>, Error> {
        super::trace::member("search", viewer).within(|| {
            self.fresh()?;
            let sight = self.sight(viewer)?;
            let graph = self.graph();
            let index = self.discovery();
            let view = sight.view(&graph);
            Ok(search::search(&view, viewer, &index, query, after, size)?)
        })
    }

    /// A company's people: the persons who work at `company` now,
    /// filtered by degree, in search order, to invite them. The same as a
    /// [`search`](Self::search) with only these two filters.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`] for an unknown or deactivated viewer or
    /// company, or a company hidden from the viewer; [`Refusal::NotACompany`]
    /// when `company` is a person.
    pub fn company_people(
        &self,
        viewer: MemberId,
        company: MemberId,
        degrees: DegreeFilter,
        after: Option<SearchCursor>,
        size: PageSize,
    ) -> Result<Page<SearchHit, SearchCursor>, Error> {
        super::trace::pair("company_people", viewer, company).within(|| {
            self.fresh()?;
            let sight = self.sight(viewer)?;
            match self.load::<Member>(Key::Member(company))? {
                Some(m) if m.value.active && !sight.hides(company) => {
                    if m.value.kind != Kind::Company {
                        return Err(Refusal::NotACompany(company).into());
                    }
                }
                _ => return Err(Refusal::UnknownMember(company).into()),
            }
            let query = SearchQuery::new().current_company(company).degrees(degrees);
            let graph = self.graph();
            let index = self.discovery();
            let view = sight.view(&graph);
            Ok(search::search(&view, viewer, &index, &query, after, size)?)
        })
    }

    fn discovery_facts<T: TryFrom<Record>>(
        &self,
        actor: MemberId,
        other: MemberId,
        key: Key,
    ) -> Result<Facts<T>, Error> {
        Ok(Facts {
            actor: self.load(Key::Member(actor))?,
            other: self.load(Key::Member(other))?,
            hidden: self.between(actor, other)?.hides(),
            record: self.load(key)?,
        })
    }

    fn group_facts(&self, member: MemberId) -> Result<Facts<Memberships>, Error> {
        Ok(Facts {
            actor: self.load(Key::Member(member))?,
            other: None,
            hidden: false,
            record: self.load(Key::Groups(member))?,
        })
    }

    /// The active persons who own a discoverable address among `viewer`'s
    /// imported contacts: the matching rule of contacts
    /// ([`contacts::findable`]),
    /// persons only; members hidden by a block are left to the view.
    fn contact_owners(&self, viewer: MemberId) -> Result<BTreeSet<MemberId>, Error> {
        let mut owners = BTreeSet::new();
        for contact in self.store.contacts(viewer)? {
            let canonical = contact.email.canonical();
            let owner = self.load::<EmailOwner>(Key::EmailOwner(canonical.to_owned()))?;
            let Some(id) = owner.as_ref().and_then(|o| o.value.member) else {
                continue;
            };
            let member = self.load::<Member>(Key::Member(id))?;
            let found = contacts::decide::findable(
                viewer,
                canonical,
                owner.as_ref().map(|o| &o.value),
                member.as_ref().map(|m| &m.value),
                |_| false,
            );
            if found.is_some_and(|f| f != viewer)
                && member.is_some_and(|m| m.value.is_active_person())
            {
                owners.insert(id);
            }
        }
        Ok(owners)
    }

    /// Whether no bar keeps `candidate` out of `viewer`'s suggestions (see
    /// [`people_you_may_know`](Self::people_you_may_know)).
    fn unbarred(&self, viewer: MemberId, candidate: MemberId) -> Result<bool, Error> {
        let pair = match PairKey::new(viewer, candidate) {
            Some(key) => self.load::<PairState>(Key::Pair(key))?,
            None => None,
        };
        Ok(decide::pymk_unbarred(
            viewer,
            candidate,
            pair.as_ref().map(|p| &p.value),
        ))
    }
}
