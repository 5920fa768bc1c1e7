//! Three passes over the generated schemas for what the derived schemas cannot state by attributes (applied
//! by [`crate::openapi::document`]):
//!
//! - [`close_objects_from`]: the objects of a signed request's body accept no other keys. `utoipa` closes a
//!   struct with `#[serde(deny_unknown_fields)]` (`additionalProperties: false`) but cannot close an enum's
//!   variants: the one-key object of an externally tagged variant (`{"transfer": {...}}`, which serde
//!   refuses with a second key) and the fields of a struct variant of `Command` (covered by its
//!   `deny_unknown_fields`). Every object reachable from the request body is closed, so a schema-valid
//!   request is one the node's strict decoder accepts.
//! - [`bound_integers`]: an integer's width is a `format` (`u-int32`, ...) that JSON Schema validators and
//!   generators ignore; each width becomes its `minimum` and `maximum`, so a schema-valid number fits.
//! - [`fix_tuple_lengths`]: a tuple (`prefixItems`) gets its exact length, which `utoipa` leaves out.

use std::collections::BTreeMap;

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, Object, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};

/// The prefix of a reference to a component schema.
const COMPONENT_REF: &str = "#/components/schemas/";

/// Calls `visit` on every schema inside `schema` (itself included; not through references), depth first.
fn for_each_schema(schema: &mut RefOr<Schema>, visit: &mut dyn FnMut(&mut Schema)) {
    if let RefOr::T(schema) = schema {
        for_each_schema_in(schema, visit);
    }
}

fn for_each_schema_in(schema: &mut Schema, visit: &mut dyn FnMut(&mut Schema)) {
    visit(schema);
    match schema {
        Schema::Object(object) => {
            object.properties.values_mut().for_each(|p| for_each_schema(p, visit));
            if let Some(AdditionalProperties::RefOr(extra)) = object.additional_properties.as_deref_mut() {
                for_each_schema(extra, visit);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                for_each_schema(items, visit);
            }
            array.prefix_items.iter_mut().for_each(|item| for_each_schema_in(item, visit));
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(|s| for_each_schema(s, visit)),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(|s| for_each_schema(s, visit)),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(|s| for_each_schema(s, visit)),
        _ => {}
    }
}

/// Calls `visit` on every object schema inside `schema` (itself included), depth first.
fn for_each_object(schema: &mut RefOr<Schema>, visit: &mut dyn FnMut(&mut Object)) {
    for_each_schema(schema, &mut |schema| {
        if let Schema::Object(object) = schema {
            visit(object);
        }
    });
}

/// The names of the components `schema` refers to (its `$ref`s at any depth).
fn references(schema: &RefOr<Schema>) -> Vec<String> {
    fn collect(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(name) = map.get("$ref").and_then(|r| r.as_str()?.strip_prefix(COMPONENT_REF)) {
                    out.push(name.to_owned());
                }
                map.values().for_each(|v| collect(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::to_value(schema) {
        collect(&value, &mut out);
    }
    out
}

/// `true` when `schema_type` is (or includes) `ty`.
fn has_type(schema_type: &SchemaType, ty: &Type) -> bool {
    match schema_type {
        SchemaType::Type(t) => t == ty,
        SchemaType::Array(types) => types.contains(ty),
        _ => false,
    }
}

/// Closes (`additionalProperties: false`) every object schema of the component `root` and of the
/// components it refers to, directly or not, unless the object states its additional properties.
pub(crate) fn close_objects_from(schemas: &mut BTreeMap<String, RefOr<Schema>>, root: &str) {
    let mut reachable = Vec::new();
    let mut todo = vec![root.to_owned()];
    while let Some(name) = todo.pop() {
        if reachable.contains(&name) {
            continue;
        }
        if let Some(schema) = schemas.get(&name) {
            todo.extend(references(schema));
        }
        reachable.push(name);
    }
    for name in &reachable {
        let Some(schema) = schemas.get_mut(name) else { continue };
        for_each_object(schema, &mut |object| {
            if has_type(&object.schema_type, &Type::Object) && object.additional_properties.is_none() {
                object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        });
    }
}

/// The range of an integer width: `(minimum, maximum)`.
fn width_range(format: &KnownFormat) -> Option<(utoipa::Number, utoipa::Number)> {
    use utoipa::Number::{Int, UInt};
    // The widths fit `isize`/`usize` on the 64-bit targets this crate builds for.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    Some(match format {
        KnownFormat::Int8 => (Int(i8::MIN.into()), Int(i8::MAX.into())),
        KnownFormat::Int16 => (Int(i16::MIN.into()), Int(i16::MAX.into())),
        KnownFormat::Int32 => (Int(i32::MIN as isize), Int(i32::MAX as isize)),
        KnownFormat::Int64 => (Int(i64::MIN as isize), Int(i64::MAX as isize)),
        KnownFormat::UInt8 => (UInt(0), UInt(u8::MAX.into())),
        KnownFormat::UInt16 => (UInt(0), UInt(u16::MAX.into())),
        KnownFormat::UInt32 => (UInt(0), UInt(u32::MAX as usize)),
        KnownFormat::UInt64 => (UInt(0), UInt(u64::MAX as usize)),
        _ => return None,
    })
}

/// Gives every integer schema inside `schema` that has a width format the bounds of its width, where it
/// states none (a stated bound is kept: it is at least as tight).
pub(crate) fn bound_integers(schema: &mut RefOr<Schema>) {
    for_each_object(schema, &mut |object| {
        let Some(SchemaFormat::KnownFormat(format)) = &object.format else { return };
        let Some((min, max)) = width_range(format) else { return };
        if has_type(&object.schema_type, &Type::Integer) {
            object.minimum.get_or_insert(min);
            object.maximum.get_or_insert(max);
        }
    });
}

/// Gives every tuple schema inside `schema` (`prefixItems` and no further items: a serde tuple) its exact
/// length as `minItems` and `maxItems`: serde refuses a shorter or longer array.
pub(crate) fn fix_tuple_lengths(schema: &mut RefOr<Schema>) {
    for_each_schema(schema, &mut |schema| {
        let Schema::Array(array) = schema else { return };
        if array.prefix_items.is_empty() || !matches!(array.items, ArrayItems::False) {
            return;
        }
        let length = array.prefix_items.len();
        array.min_items.get_or_insert(length);
        array.max_items.get_or_insert(length);
    });
}
