//! A filtering serializer: the entries of one map field of a struct, matching entries only.
//!
//! `tfeco_core::slices::rewards::Rewards` exposes no accessor for a node's uptime tracker or report key (they are
//! `pub(crate)` fields that only reach the outside through `Serialize`). Until the core offers one, the
//! uptime view extracts the single entry it needs with [`pick_entries`]: only the wanted map field is
//! walked, and only matching entries are converted to JSON, so a request does not serialize the reports or
//! the other nodes' trackers.

use serde::ser::{self, Impossible, Serialize};
use serde_json::Value;

type KeyFilter<'a> = &'a dyn Fn(&Value) -> bool;

/// The entries `(key, value)` of the map field `field` of the struct `value` whose key passes `keep_key`
/// and whose value passes `keep_value`, as JSON. Only that field is walked; a value is converted to JSON
/// only when its key passed. Errors when `value` is not a struct, `field` is missing or not a map.
pub fn pick_entries<T: Serialize + ?Sized>(
    value: &T,
    field: &'static str,
    keep_key: KeyFilter<'_>,
    keep_value: KeyFilter<'_>,
) -> Result<Vec<(Value, Value)>, serde_json::Error> {
    value.serialize(FieldPicker { field, keep_key, keep_value })
}

struct FieldPicker<'a> {
    field: &'static str,
    keep_key: KeyFilter<'a>,
    keep_value: KeyFilter<'a>,
}

struct FieldPickerStruct<'a> {
    picker: FieldPicker<'a>,
    out: Option<Vec<(Value, Value)>>,
}

struct MapPicker<'a> {
    keep_key: KeyFilter<'a>,
    keep_value: KeyFilter<'a>,
}

struct MapPickerEntries<'a> {
    picker: MapPicker<'a>,
    key: Option<Value>,
    out: Vec<(Value, Value)>,
}

fn unexpected(what: &str) -> serde_json::Error {
    ser::Error::custom(format!("pick_entries: unexpected {what}"))
}

/// The methods of `ser::Serializer` that a picker refuses.
macro_rules! refuse {
    ($($method:ident($($ty:ty),*);)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<Self::Ok, Self::Error> { Err(unexpected(stringify!($method))) })*
    };
}

/// Everything of a `ser::Serializer` but `serialize_struct` (or `serialize_map`), refused.
macro_rules! refuse_all_but {
    () => {
        refuse! {
            serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32); serialize_i64(i64);
            serialize_u8(u8); serialize_u16(u16); serialize_u32(u32); serialize_u64(u64); serialize_f32(f32);
            serialize_f64(f64); serialize_char(char); serialize_str(&str); serialize_bytes(&[u8]);
            serialize_none(); serialize_unit(); serialize_unit_struct(&'static str);
            serialize_unit_variant(&'static str, u32, &'static str);
        }
        fn serialize_some<V: Serialize + ?Sized>(self, _: &V) -> Result<Self::Ok, Self::Error> {
            Err(unexpected("option"))
        }
        fn serialize_newtype_struct<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &V,
        ) -> Result<Self::Ok, Self::Error> {
            value.serialize(self)
        }
        fn serialize_newtype_variant<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &V,
        ) -> Result<Self::Ok, Self::Error> {
            Err(unexpected("enum"))
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
            Err(unexpected("sequence"))
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
            Err(unexpected("tuple"))
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Self::Error> {
            Err(unexpected("tuple struct"))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Self::Error> {
            Err(unexpected("enum"))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Self::Error> {
            Err(unexpected("enum"))
        }
    };
}

impl<'a> ser::Serializer for FieldPicker<'a> {
    type Ok = Vec<(Value, Value)>;
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<Self::Ok, Self::Error>;
    type SerializeTuple = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
    type SerializeMap = Impossible<Self::Ok, Self::Error>;
    type SerializeStruct = FieldPickerStruct<'a>;
    type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;

    refuse_all_but!();

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(unexpected("map"))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Self::Error> {
        Ok(FieldPickerStruct { picker: self, out: None })
    }
}

impl ser::SerializeStruct for FieldPickerStruct<'_> {
    type Ok = Vec<(Value, Value)>;
    type Error = serde_json::Error;

    fn serialize_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), Self::Error> {
        if key == self.picker.field {
            let picker = MapPicker { keep_key: self.picker.keep_key, keep_value: self.picker.keep_value };
            self.out = Some(value.serialize(picker)?);
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.out.ok_or_else(|| unexpected("struct without the field"))
    }
}

impl<'a> ser::Serializer for MapPicker<'a> {
    type Ok = Vec<(Value, Value)>;
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<Self::Ok, Self::Error>;
    type SerializeTuple = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
    type SerializeMap = MapPickerEntries<'a>;
    type SerializeStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;

    refuse_all_but!();

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Ok(MapPickerEntries { picker: self, key: None, out: Vec::new() })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Self::Error> {
        Err(unexpected("struct"))
    }
}

impl ser::SerializeMap for MapPickerEntries<'_> {
    type Ok = Vec<(Value, Value)>;
    type Error = serde_json::Error;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Self::Error> {
        let key = serde_json::to_value(key)?;
        self.key = (self.picker.keep_key)(&key).then_some(key);
        Ok(())
    }

    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Self::Error> {
        if let Some(key) = self.key.take() {
            let value = serde_json::to_value(value)?;
            if (self.picker.keep_value)(&value) {
                self.out.push((key, value));
            }
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    #[derive(serde::Serialize)]
    struct Sample {
        before: Vec<u8>,
        map: BTreeMap<u32, (u8, String)>,
        after: String,
    }

    #[test]
    fn pick_entries_returns_only_matching_entries_of_the_field() {
        let sample = Sample {
            before: vec![1, 2],
            map: [(1, (7, "a".to_owned())), (2, (8, "b".to_owned())), (3, (7, "c".to_owned()))].into(),
            after: "x".to_owned(),
        };
        let by_key = pick_entries(&sample, "map", &|k| *k == json!(2), &|_| true).unwrap();
        assert_eq!(by_key, vec![(json!(2), json!([8, "b"]))]);
        let by_value = pick_entries(&sample, "map", &|_| true, &|v| v[0] == json!(7)).unwrap();
        assert_eq!(by_value.into_iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![json!(1), json!(3)]);
        assert!(pick_entries(&sample, "missing", &|_| true, &|_| true).is_err());
        assert!(pick_entries(&sample, "after", &|_| true, &|_| true).is_err());
        assert!(pick_entries(&5u8, "map", &|_| true, &|_| true).is_err());
    }
}
