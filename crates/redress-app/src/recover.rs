//! A lost access code, re-issued to the contact on file (SPEC §5,
//! `POST /track/recover {tracking_no, contact}`).
//!
//! The answer is the same whatever happened, so that the call tells
//! nobody whether a tracking number exists or what contact it has. A new
//! code is made only when `contact` is the complainant's e-mail address
//! (compared case-insensitively) or phone number (by its digits, `+86`
//! when no country is given) and a provider that can reach it is
//! configured; it is stored in the same save that queues its notice, and
//! only then does the old code stop working. A platform user id does not
//! count (the platform's app is not a channel the person proves they
//! hold). Requests are limited per client address and per tracking
//! number, every request counting.

use redress_domain::{Actor, ActorKind, Delivery, DeliveryChannel, NoticeKind, Party};

use crate::error::{AppError, AppResult};
use crate::{App, refuse};

/// `13812345678`, `+86 138-1234-5678`, `0086 13812345678` → `+8613812345678`;
/// `None` when it is not a phone number at all.
fn international(phone: &str) -> Option<String> {
    if !phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return None;
    }
    let digits: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let number = if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if digits.starts_with('+') {
        digits
    } else {
        format!("+86{digits}")
    };
    (number.len() >= 6).then_some(number)
}

/// Which of the complainant's contacts `given` is, if any.
fn matching_channel(
    complainant: &redress_domain::Complainant,
    given: &str,
) -> Option<DeliveryChannel> {
    let given = given.trim();
    if given.contains('@') {
        let on_file = complainant.email.as_deref()?;
        return on_file
            .trim()
            .eq_ignore_ascii_case(given)
            .then_some(DeliveryChannel::Email);
    }
    let on_file = international(complainant.phone.as_deref()?)?;
    (international(given)? == on_file).then_some(DeliveryChannel::Sms)
}

impl App {
    /// `POST /track/recover`. `Ok(())` in every case but bad input
    /// (`422`) and too many requests (`429`).
    pub async fn recover_code(
        &self,
        cmd: &crate::commands::RecoverCodeCommand,
        client: Option<std::net::IpAddr>,
    ) -> AppResult<()> {
        let (tracking_no, contact) = (&cmd.tracking_no, &cmd.contact);
        let no = tracking_no.trim().to_ascii_uppercase();
        if self.config.throttle_guessing {
            let g = &self.guesses;
            // Per address when the address is known (it always is behind
            // the listener; a shared "unknown" bucket would let one caller
            // block everyone).
            let address = client.map(crate::admin::address_key);
            if let Some(a) = &address {
                g.recover_address.check(a).map_err(AppError::Throttled)?;
            }
            g.recover_case.check(&no).map_err(AppError::Throttled)?;
            if let Some(a) = &address {
                g.recover_address.fail(a);
            }
            g.recover_case.fail(&no);
        }
        let loaded = match self.load_by_tracking_no(&no).await {
            Ok(l) => l,
            Err(AppError::NotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        let case = &loaded.case;
        if case.purged_at.is_some() {
            return Ok(());
        }
        let complainant = &case.record.complainant;
        let Some(channel) = matching_channel(complainant, contact) else {
            return Ok(());
        };
        // Only a contact a provider can reach gets a new code: otherwise
        // the old one stays, and nothing changes.
        if self.config.senders.for_channel(channel).is_none() {
            return Ok(());
        }
        let recipient = match channel {
            DeliveryChannel::Sms => {
                let phone = complainant.phone.clone().unwrap_or_default();
                if !crate::outbound::sms_allowed(&phone, &self.config.sms_prefixes) {
                    return Ok(());
                }
                redress_domain::mask_phone(&phone)
            }
            _ => redress_domain::mask_email(complainant.email.as_deref().unwrap_or_default()),
        };
        let code = crate::codes::new_access_code();
        let Some(key) = loaded.key() else {
            return Ok(());
        };
        let hash = crate::codes::code_hash(key, &code)
            .ok_or_else(|| AppError::internal("a fresh access code does not normalize"))?;
        let sealed = crate::codes::seal_pending(key, &code);
        let actor = Actor {
            kind: ActorKind::Complainant,
            id: case.tracking_no.clone(),
        };
        let saved = self
            .mutate_with_code(case.id, actor, Some((&hash, Some(&sealed))), |case, ctx| {
                let effects = refuse(case.reissue_code(Some(channel), ctx))?;
                case.record_delivery(Delivery::owed(
                    uuid::Uuid::now_v7().to_string(),
                    Party::Complainant,
                    NoticeKind::AccessCode,
                    channel,
                    recipient.clone(),
                    ctx.now,
                ));
                Ok(effects)
            })
            .await;
        match saved {
            Ok(_) => Ok(()),
            // Purged in the meantime: nothing to send.
            Err(AppError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complainant(email: Option<&str>, phone: Option<&str>) -> redress_domain::Complainant {
        redress_domain::Complainant {
            name: "张三".into(),
            user_id: Some("u-1".into()),
            email: email.map(str::to_string),
            phone: phone.map(str::to_string),
            postal_address: None,
        }
    }

    #[test]
    fn contacts_match_by_address_and_by_digits() {
        let c = complainant(Some("Zhang@Example.com"), Some("138-1234-5678"));
        assert_eq!(
            matching_channel(&c, " zhang@example.COM "),
            Some(DeliveryChannel::Email)
        );
        assert_eq!(
            matching_channel(&c, "+86 13812345678"),
            Some(DeliveryChannel::Sms)
        );
        assert_eq!(
            matching_channel(&c, "0086 138 1234 5678"),
            Some(DeliveryChannel::Sms)
        );
        assert_eq!(matching_channel(&c, "13812345679"), None);
        assert_eq!(matching_channel(&c, "+1 13812345678"), None);
        assert_eq!(matching_channel(&c, "other@example.com"), None);
        // A platform user id does not count.
        assert_eq!(matching_channel(&c, "u-1"), None);
        assert_eq!(matching_channel(&complainant(None, None), "u-1"), None);
    }
}
