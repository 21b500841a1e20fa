//! Client request ids: a retried mutation returns its first result instead of being
//! applied again, and a request id reused for a different request is refused. A
//! request id is kept for the idempotency window (`retention.rs`); past it, it is
//! forgotten, whether or not the sweeper has deleted it yet.

use prost::Message;

use super::mutation::Op;
use super::validate::RequestId;
use super::{Actor, Error, Result};
use crate::store::{IdempotentRecord, Tx};

/// One mutation's request id, bound to what was asked.
pub struct RequestKey<'a> {
    actor: &'a str,
    key: &'a str,
    fingerprint: Vec<u8>,
}

impl<'a> RequestKey<'a> {
    /// The fingerprint is the operation's name and the encoded request, request id
    /// included (it is the same on a retry).
    pub fn new(actor: &'a Actor, op: Op, key: RequestId<'a>, request: &impl Message) -> Result<Self> {
        let mut fingerprint = op.name().as_bytes().to_vec();
        fingerprint.push(0);
        request
            .encode(&mut fingerprint)
            .map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(RequestKey {
            actor: &actor.user.id,
            key: key.as_str(),
            fingerprint,
        })
    }

    /// Holds this request id until the transaction ends (`Tx::lock_request`).
    pub async fn lock(&self, tx: &mut dyn Tx) -> Result<()> {
        Ok(tx.lock_request(self.actor, self.key).await?)
    }

    /// The first result, if this request id was used since `expired_before` (Unix ms).
    /// An older record is deleted here, under the request's lock, so the request is
    /// applied afresh and remembered anew.
    pub async fn replay<R: Message + Default>(&self, tx: &mut dyn Tx, expired_before: i64) -> Result<Option<R>> {
        match tx.idempotent(self.actor, self.key).await? {
            None => Ok(None),
            Some(rec) if rec.created_ms < expired_before => {
                tx.forget_request(self.actor, self.key).await?;
                Ok(None)
            }
            Some(rec) if rec.fingerprint == self.fingerprint => {
                // A stored response that no longer decodes is the store's failure.
                let response = R::decode(rec.response.as_slice()).map_err(crate::store::Error::from)?;
                Ok(Some(response))
            }
            Some(_) => Err(Error::IdempotencyKeyReused {
                key: self.key.to_owned(),
            }),
        }
    }

    pub async fn remember(self, tx: &mut dyn Tx, response: &impl Message) -> Result<()> {
        let record = IdempotentRecord {
            fingerprint: self.fingerprint,
            response: response.encode_to_vec(),
            created_ms: super::time::now_millis(),
        };
        Ok(tx.remember(self.actor, self.key, &record).await?)
    }
}
