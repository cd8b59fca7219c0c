//! How far a recipient has looked at their inbox: the state behind the
//! bell icon's unseen count.

use crate::id::{InvitationId, MemberId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The newest inbox invitation its recipient has marked seen: every
/// invitation in the inbox at or before this one (newest first: by send
/// time, then id) counts as seen, every later one as unseen.
///
/// Private to the recipient: no rule reads it but the recipient's own
/// unseen count, and marking invitations seen commits this record alone,
/// with no event, so the sender cannot learn whether their invitation was
/// opened. A mark only ever moves forward.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboxMark {
    /// Whose inbox.
    pub member: MemberId,
    /// The newest seen invitation's send time.
    pub sent_at: Timestamp,
    /// The newest seen invitation's id.
    pub invitation: InvitationId,
}

impl InboxMark {
    /// `member`'s mark at the invitation `invitation`, sent at `sent_at`.
    #[must_use]
    pub fn new(member: MemberId, sent_at: Timestamp, invitation: InvitationId) -> Self {
        Self {
            member,
            sent_at,
            invitation,
        }
    }

    /// Whether the invitation `id`, sent at `sent_at`, counts as seen.
    #[must_use]
    pub fn covers(&self, sent_at: Timestamp, id: InvitationId) -> bool {
        (sent_at, id) <= (self.sent_at, self.invitation)
    }
}
