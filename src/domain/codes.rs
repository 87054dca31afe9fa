//! Stable lower-case codes (roles, scopes, statuses, kinds), stored as `text` and
//! serialised as the same string. `code_enum!` gives each one serde, OpenAPI and
//! diesel support from a single list.

#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:tt ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant ),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some(Self::$variant),)+ _ => None }
            }

            /// Its Vietnamese label (`domain::labels`), for people; the code if none.
            pub fn label(self) -> &'static str {
                $crate::domain::labels::vi(stringify!($name), self.as_str()).unwrap_or(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(bytes)?;
                Self::parse(&text).ok_or_else(|| format!("unknown {} code {text:?}", stringify!($name)).into())
            }
        }
    };
}

/// A status that records move through by explicit transitions, each allowed only to
/// the statuses `next` names.
pub trait Lifecycle: Copy + PartialEq + serde::Serialize + Send + 'static {
    /// Where a record may go from this status.
    fn next(self) -> &'static [Self];
    /// Its stable code.
    fn code(self) -> &'static str;
    /// Its Vietnamese label.
    fn label(self) -> &'static str;

    /// A 409 naming the allowed statuses unless `to` may follow this one.
    fn check_move(self, to: Self) -> Result<(), crate::error::ApiError> {
        if self.next().contains(&to) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.next().iter().map(|s| s.code()).collect();
        let labels: Vec<&str> = self.next().iter().map(|s| s.label()).collect();
        Err(crate::error::ApiError::transition_not_allowed(self.code(), to.code(), &allowed)
            .arg("from_vi", self.label())
            .arg("to_vi", to.label())
            .arg("allowed_vi", if labels.is_empty() { "—".to_owned() } else { labels.join(", ") }))
    }
}

/// `Lifecycle` for status enums with an inherent `next` (and `as_str` from `code_enum!`).
#[macro_export]
macro_rules! lifecycle {
    ($($status:ty),+) => {
        $(impl $crate::domain::codes::Lifecycle for $status {
            fn next(self) -> &'static [Self] {
                <$status>::next(self)
            }
            fn code(self) -> &'static str {
                self.as_str()
            }
            fn label(self) -> &'static str {
                <$status>::label(self)
            }
        })+
    };
}
