//! The published channels (公示渠道, SPEC §5): the hotline and its hours,
//! the complaint mailbox, the postal and visiting address, and which
//! channels are switched on. An admin sets them (`PUT
//! /admin/settings/channels`); anyone reads them (`GET /channels`). Intake
//! on `web` or `email` is refused while that channel is off; `api`/`chat`
//! are governed by their keys, staff channels by the staff console.

use redress_domain::Channel;
use redress_domain::Reason;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Principal;
use crate::{App, AppError, AppResult};

/// The settings key the channels are stored under.
const KEY: &str = "channels";

/// How a complaint arrived (SPEC §5).
// The contract strings of [`Channel`], for the API document.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelName {
    Web,
    Api,
    Chat,
    Email,
    Phone,
    Letter,
    InPerson,
}

/// The published channels (公示渠道), as stored and as
/// `GET`/`PUT /admin/settings/channels` answer them.
// The fields are declared in alphabetical order: the order of the JSON
// object this answer was before, whose keys serde_json sorts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedChannels {
    /// The channels switched on.
    #[schema(value_type = Vec<ChannelName>)]
    pub enabled: Vec<Channel>,
    pub hotline: Option<String>,
    pub hotline_hours: Option<String>,
    pub mailbox: Option<String>,
    pub postal_address: Option<String>,
    pub visiting_address: Option<String>,
}

impl Default for PublishedChannels {
    /// Before an admin sets anything: every channel on, nothing published.
    fn default() -> Self {
        Self {
            hotline: None,
            hotline_hours: None,
            mailbox: None,
            postal_address: None,
            visiting_address: None,
            enabled: Channel::ALL.to_vec(),
        }
    }
}

/// `GET /channels`: the published channels (公示渠道, SPEC §5), each
/// detail null unless its channel is on.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PublicChannels {
    /// With `phone`.
    pub hotline: Option<String>,
    pub hotline_hours: Option<String>,
    /// With `email`.
    pub mailbox: Option<String>,
    /// With `letter`.
    pub postal_address: Option<String>,
    /// With `in_person`.
    pub visiting_address: Option<String>,
    #[schema(value_type = Vec<ChannelName>)]
    pub enabled: Vec<Channel>,
}

impl PublishedChannels {
    pub fn is_enabled(&self, channel: Channel) -> bool {
        self.enabled.contains(&channel)
    }

    /// The public view: only what an enabled channel needs (the hotline
    /// with `phone`, the mailbox with `email`, the postal address with
    /// `letter`, the visiting address with `in_person`).
    pub fn public(&self) -> PublicChannels {
        let on = |c: Channel, v: &Option<String>| v.clone().filter(|_| self.is_enabled(c));
        PublicChannels {
            hotline: on(Channel::Phone, &self.hotline),
            hotline_hours: on(Channel::Phone, &self.hotline_hours),
            mailbox: on(Channel::Email, &self.mailbox),
            postal_address: on(Channel::Letter, &self.postal_address),
            visiting_address: on(Channel::InPerson, &self.visiting_address),
            enabled: self.enabled.clone(),
        }
    }
}

impl App {
    /// The channels as set, or the defaults, with the configured mailbox
    /// when none was set.
    pub async fn published_channels(&self) -> AppResult<PublishedChannels> {
        let mut channels = match self.store.get_setting(KEY).await? {
            Some(raw) => serde_json::from_str(&raw).map_err(AppError::internal)?,
            None => PublishedChannels::default(),
        };
        if channels.mailbox.is_none() {
            channels.mailbox = self.config.mailbox();
        }
        *self.channels_cache.write().expect("channels lock") = Some(channels.clone());
        Ok(channels)
    }

    /// The mailbox last read from the settings (the configured one as a
    /// fallback): the base of reply addresses.
    pub fn mailbox(&self) -> Option<String> {
        self.channels_cache
            .read()
            .expect("channels lock")
            .as_ref()
            .and_then(|c| c.mailbox.clone())
            .or_else(|| self.config.mailbox())
    }

    /// Refuses intake on `channel` while it is switched off (422 on
    /// `channel`, naming it).
    pub async fn require_channel_open(&self, channel: Channel) -> AppResult<()> {
        if self.published_channels().await?.is_enabled(channel) {
            Ok(())
        } else {
            Err(AppError::invalid(
                "channel",
                Reason::ChannelOff {
                    channel: channel.to_string(),
                },
            ))
        }
    }

    /// `GET /admin/settings/channels`: what is stored, with the fallback
    /// mailbox.
    pub async fn channel_settings(&self, who: &Principal) -> AppResult<PublishedChannels> {
        self.admin(who)?;
        self.published_channels().await
    }

    /// `PUT /admin/settings/channels`: replaces the settings; journaled.
    pub async fn set_channel_settings(
        &self,
        who: &Principal,
        cmd: &crate::commands::SetChannelsCommand,
    ) -> AppResult<PublishedChannels> {
        self.admin(who)?;
        let crate::commands::SetChannelsCommand {
            hotline,
            hotline_hours,
            mailbox,
            postal_address,
            visiting_address,
            enabled,
        } = cmd.clone();
        let channels = PublishedChannels {
            hotline,
            hotline_hours,
            mailbox,
            postal_address,
            visiting_address,
            enabled,
        };
        let staff = self.admin(who)?;
        let value = json!(channels);
        let event = self.admin_event(who, "channels_set", value.clone());
        self.store
            .put_setting(
                KEY,
                value.to_string(),
                format!("staff:{}", staff.user.id),
                self.now(),
                event,
            )
            .await?;
        self.published_channels().await?;
        Ok(channels)
    }
}
