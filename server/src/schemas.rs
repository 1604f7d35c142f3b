//! Stand-ins for `rapport-scoring` types in utoipa annotations. Each refers to the
//! component of the same name, which [`crate::openapi::document`] fills with the schemars
//! schema of the real type.
//!
//! A leaf: the services and handlers that describe their bodies name these, and the
//! document names the handlers, so this must never import either.

use std::borrow::Cow;

use utoipa::openapi::{Ref, RefOr, Schema};

macro_rules! stand_ins {
    ($($(#[$doc:meta])* $name:ident => $real:ty,)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;

            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    RefOr::Ref(Ref::from_schema_name(stringify!($name)))
                }
            }

            impl utoipa::ToSchema for $name {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($name))
                }
            }
        )*

        /// The schemars schemas of every stand-in's real type, and of the types they
        /// refer to, keyed by component name.
        pub(crate) fn components() -> serde_json::Map<String, serde_json::Value> {
            let mut settings = schemars::generate::SchemaSettings::draft2020_12();
            settings.definitions_path = "/components/schemas".into();
            let mut generator = settings.into_generator();
            $(
                let reference = generator.subschema_for::<$real>();
                assert_eq!(
                    reference.get("$ref").and_then(serde_json::Value::as_str),
                    Some(concat!("#/components/schemas/", stringify!($name))),
                    "the stand-in must carry the schemars name of its type",
                );
            )*
            generator.take_definitions(true)
        }
    };
}

stand_ins! {
    /// A response in wire format v1 (`rapport_scoring::wire::ResponseV1`).
    ResponseV1 => rapport_scoring::wire::ResponseV1,
    /// The server's score of one response (`rapport_scoring::score::ResponseScore`).
    ResponseScore => rapport_scoring::score::ResponseScore,
    /// An aggregate report (`rapport_scoring::Report`).
    Report => rapport_scoring::Report,
    /// A survey definition (`rapport_scoring::definition::SurveyDefinition`).
    SurveyDefinition => rapport_scoring::definition::SurveyDefinition,
    /// Completion rates from invitations (`rapport_scoring::completion::Completion`).
    Completion => rapport_scoring::completion::Completion,
    /// Emerging topics, wave by wave (`rapport_scoring::emerging::EmergingTopics`).
    EmergingTopics => rapport_scoring::emerging::EmergingTopics,
    /// Why a response needs a conversation (`rapport_scoring::close_loop::Reason`).
    Reason => rapport_scoring::close_loop::Reason,
    /// A relationship category (`rapport_scoring::score::RelationshipCategory`).
    RelationshipCategory => rapport_scoring::score::RelationshipCategory,
    /// Who answered (`rapport_scoring::wire::Identity`).
    Identity => rapport_scoring::wire::Identity,
}
