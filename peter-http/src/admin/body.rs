//! Action bodies: every action reads JSON or, for curl one-liners, a
//! form-encoded body with the same fields.

/// Defines `$name`, an action body read from JSON or a form, holding `$ty`.
macro_rules! json_or_form {
    ($name:ident, $ty:ty) => {
        #[doc = concat!("`", stringify!($ty), "` as JSON or as a form.")]
        #[derive(Debug, poem_openapi::ApiRequest)]
        pub enum $name {
            /// JSON.
            Json(poem_openapi::payload::Json<$ty>),
            /// `application/x-www-form-urlencoded`.
            Form(poem_openapi::payload::Form<$ty>),
        }

        impl $name {
            /// The fields, however they were sent.
            pub fn into_inner(self) -> $ty {
                match self {
                    $name::Json(j) => j.0,
                    $name::Form(f) => f.0,
                }
            }
        }
    };
}

pub(crate) use json_or_form;
