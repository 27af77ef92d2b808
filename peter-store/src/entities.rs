//! sea-orm entities, one module per table. They mirror the migrations in
//! [`crate::migration`] column for column; the conformance suite queries
//! every one of them on both back ends to keep the two in step.
#![allow(missing_docs)]

pub mod acme_server {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_server")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub directory_url: String,
        #[sea_orm(column_type = "Text")]
        pub ca_bundle_pem: Option<String>,
        pub is_default: bool,
        pub is_enabled: bool,
        pub created_at: TimeDateTimeWithTimeZone,
        pub terms_of_service: Option<String>,
        pub external_account_required: bool,
        pub profiles: Option<String>,
        pub supports_ari: bool,
        pub directory_checked_at: Option<TimeDateTimeWithTimeZone>,
        pub ip_identifiers: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_account {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_account")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub acme_server_id: i64,
        pub contact: Option<String>,
        pub account_url: Option<String>,
        pub terms_of_service: Option<String>,
        pub is_active: bool,
        pub is_global_default: bool,
        pub private_key_technology: String,
        pub private_key_cycle: String,
        pub deactivated_at: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_account_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_account_key")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub acme_account_id: i64,
        pub is_active: bool,
        pub key_technology: String,
        #[sea_orm(column_type = "Text")]
        pub key_pem: String,
        pub spki_sha256: String,
        pub source: String,
        pub created_at: TimeDateTimeWithTimeZone,
        pub deactivated_at: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod private_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "private_key")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(column_type = "Text")]
        pub key_pem: String,
        pub spki_sha256: String,
        pub key_technology: String,
        pub source: String,
        pub cycle: String,
        pub acme_account_id_owner: Option<i64>,
        pub is_active: bool,
        pub is_compromised: bool,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod domain {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "domain")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub domain_name: String,
        pub is_active: bool,
        pub certificate_signed_id_latest_single: Option<i64>,
        pub certificate_signed_id_latest_multi: Option<i64>,
        pub challenge_type: String,
        pub created_at: TimeDateTimeWithTimeZone,
        pub identifier_type: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod renewal_configuration {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "renewal_configuration")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub unique_fqdn_set_id: i64,
        pub acme_account_id: i64,
        pub private_key_technology: Option<String>,
        pub private_key_cycle: String,
        pub profile: Option<String>,
        pub backup_acme_account_id: Option<i64>,
        pub backup_private_key_technology: Option<String>,
        pub backup_profile: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub challenge_types: Option<String>,
        pub failover_after: i32,
        pub is_active: bool,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod domain_autocert {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "domain_autocert")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub domain_name: String,
        pub created_at: TimeDateTimeWithTimeZone,
        pub finished_at: Option<TimeDateTimeWithTimeZone>,
        pub is_successful: Option<bool>,
        pub acme_order_id: Option<i64>,
        #[sea_orm(column_type = "Text")]
        pub problem: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod domain_blocklisted {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "domain_blocklisted")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub domain_name: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod unique_fqdn_set {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unique_fqdn_set")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub fqdn_sha256: String,
        #[sea_orm(column_type = "Text")]
        pub domain_names: String,
        pub count_domains: i32,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod unique_fqdn_set_domain {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unique_fqdn_set_domain")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub unique_fqdn_set_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub domain_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod certificate_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_request")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(column_type = "Text")]
        pub csr_pem: String,
        pub csr_sha256: String,
        pub spki_sha256: String,
        pub source: String,
        pub private_key_id: Option<i64>,
        pub unique_fqdn_set_id: i64,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod certificate_signed {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_signed")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(column_type = "Text")]
        pub cert_pem: String,
        pub fingerprint_sha1: String,
        pub spki_sha256: String,
        pub serial: String,
        #[sea_orm(column_type = "Text")]
        pub cert_subject: String,
        #[sea_orm(column_type = "Text")]
        pub cert_issuer: String,
        pub not_before: TimeDateTimeWithTimeZone,
        pub not_after: TimeDateTimeWithTimeZone,
        pub is_single_domain_cert: bool,
        pub key_technology: String,
        pub is_active: bool,
        pub is_deactivated: bool,
        pub is_revoked: bool,
        pub is_compromised_private_key: bool,
        pub revoked_upstream_at: Option<TimeDateTimeWithTimeZone>,
        pub ari_window_start: Option<TimeDateTimeWithTimeZone>,
        pub ari_window_end: Option<TimeDateTimeWithTimeZone>,
        pub ari_retry_after: Option<TimeDateTimeWithTimeZone>,
        pub ari_explanation_url: Option<String>,
        pub ari_checked_at: Option<TimeDateTimeWithTimeZone>,
        pub private_key_id: i64,
        pub unique_fqdn_set_id: i64,
        pub certificate_request_id: Option<i64>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod certificate_ca {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_ca")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(column_type = "Text")]
        pub cert_pem: String,
        pub fingerprint_sha1: String,
        pub spki_sha256: String,
        #[sea_orm(column_type = "Text")]
        pub cert_subject: String,
        #[sea_orm(column_type = "Text")]
        pub cert_issuer: String,
        pub not_before: TimeDateTimeWithTimeZone,
        pub not_after: TimeDateTimeWithTimeZone,
        pub is_trusted_root: bool,
        #[sea_orm(column_type = "Text")]
        pub display_name: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod certificate_ca_chain {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_ca_chain")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(column_type = "Text")]
        pub chain_pem: String,
        pub certificate_ca_ids: String,
        pub chain_length: i32,
        pub certificate_ca_0_id: i64,
        pub certificate_ca_n_id: i64,
        #[sea_orm(column_type = "Text")]
        pub display_name: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod certificate_signed_chain {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_signed_chain")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub certificate_signed_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub certificate_ca_chain_id: i64,
        pub is_upstream_default: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod certificate_ca_preference {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_ca_preference")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub certificate_ca_id: i64,
        pub slot: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_order")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub acme_account_id: i64,
        pub unique_fqdn_set_id: i64,
        pub order_url: Option<String>,
        pub finalize_url: Option<String>,
        pub certificate_url: Option<String>,
        pub status: String,
        pub processing_status: String,
        pub processing_strategy: String,
        pub order_type: String,
        pub is_processing: Option<bool>,
        pub private_key_cycle_renewal: String,
        pub private_key_strategy_requested: String,
        pub private_key_id_requested: Option<i64>,
        pub private_key_id: Option<i64>,
        pub certificate_request_id: Option<i64>,
        pub certificate_signed_id: Option<i64>,
        pub acme_order_id_retry_of: Option<i64>,
        pub certificate_signed_id_renewal_of: Option<i64>,
        pub profile: Option<String>,
        pub replaces: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub problem: Option<String>,
        pub expires_at: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
        #[sea_orm(column_type = "Text")]
        pub challenge_types: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_authorization {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_authorization")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub authorization_url: String,
        pub status: String,
        pub domain_id: Option<i64>,
        pub expires_at: Option<TimeDateTimeWithTimeZone>,
        pub deactivated_at: Option<TimeDateTimeWithTimeZone>,
        pub acme_order_id_created: i64,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_order_authorization {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_order_authorization")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub acme_order_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub acme_authorization_id: i64,
        pub is_present_on_new_order: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_challenge {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_challenge")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub acme_authorization_id: i64,
        pub domain_id: i64,
        pub challenge_type: String,
        pub status: String,
        pub challenge_url: String,
        pub token: String,
        pub key_authorization: Option<String>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_challenge_poll {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_challenge_poll")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub acme_challenge_id: i64,
        pub polled_at: TimeDateTimeWithTimeZone,
        pub last_polled_at: Option<TimeDateTimeWithTimeZone>,
        pub poll_count: i64,
        pub remote_ip_address: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_challenge_unknown_poll {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_challenge_unknown_poll")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub domain: String,
        pub token: String,
        pub polled_at: TimeDateTimeWithTimeZone,
        pub last_polled_at: Option<TimeDateTimeWithTimeZone>,
        pub poll_count: i64,
        pub remote_ip_address: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod acme_event_log {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acme_event_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub event_at: TimeDateTimeWithTimeZone,
        pub event: String,
        #[sea_orm(column_type = "Text")]
        pub endpoint: String,
        pub http_status: Option<i32>,
        pub problem_type: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub problem_detail: Option<String>,
        pub retry_after_seconds: Option<i64>,
        pub duration_ms: i64,
        pub acme_account_id: Option<i64>,
        pub acme_order_id: Option<i64>,
        pub acme_authorization_id: Option<i64>,
        pub acme_challenge_id: Option<i64>,
        pub certificate_signed_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod operations_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "operations_event")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub event_type: String,
        pub event_at: TimeDateTimeWithTimeZone,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        pub parent_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod config_change {
    use sea_orm::entity::prelude::*;

    /// One change of what domains serve, for other processes' caches.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "config_change")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The domain's name; `None`: every domain.
        pub domain_name: Option<String>,
        pub changed_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod renewal_state {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "renewal_state")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub unique_fqdn_set_id: i64,
        pub lease_holder: Option<String>,
        pub lease_expires_at: Option<TimeDateTimeWithTimeZone>,
        /// Grows with every grant of the lease (the fencing token).
        pub lease_token: i64,
        pub failures: i32,
        pub next_attempt_at: Option<TimeDateTimeWithTimeZone>,
        #[sea_orm(column_type = "Text")]
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod alert_delivery {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "alert_delivery")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub condition: String,
        pub subject: String,
        pub certificate_signed_id: Option<i64>,
        pub acme_account_id: Option<i64>,
        pub target: String,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        pub status: String,
        pub attempts: i32,
        #[sea_orm(column_type = "Text")]
        pub last_error: Option<String>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub delivered_at: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dns_delegation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dns_delegation")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub domain_name: String,
        pub label: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dns_txt_record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dns_txt_record")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub label: String,
        pub value: String,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
