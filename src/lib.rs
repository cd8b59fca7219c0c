//! pronet: the connection side of a professional network.
//!
//! Members and their connections (1st, 2nd, 3rd degree, mutual connections),
//! with invitations, limits and discovery to come. The host brings
//! persistence and time; the core does no I/O.

pub mod graph;
pub mod id;
pub mod member;
pub mod page;
pub mod time;

pub use graph::{Degree, GraphError, SocialGraph};
pub use id::{GroupId, InvitationId, MemberId, PairKey};
pub use member::{InvitePreference, Kind, Member, Profile, Tier};
pub use page::{Page, PageSize, PageSizeError};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
