//! `kernel_size`, `stride` and `padding` may each be one number or `[h, w]`, as in PyTorch.

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One number used for both height and width, or an explicit `[h, w]`.
///
/// The form the user wrote is kept, so a file round-trips byte for byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pair {
    /// The same value for height and width: `3`.
    Same(u64),
    /// Height and width given apart: `[3, 5]`.
    HW(u64, u64),
}

impl Pair {
    /// The height component.
    pub fn h(self) -> u64 {
        match self {
            Pair::Same(v) | Pair::HW(v, _) => v,
        }
    }

    /// The width component.
    pub fn w(self) -> u64 {
        match self {
            Pair::Same(v) | Pair::HW(_, v) => v,
        }
    }

    /// The same pair written as one number when height and width agree (`[3, 3]` → `3`),
    /// as PyTorch's modules print it and netloom's templates write it.
    pub fn simplified(self) -> Pair {
        if self.h() == self.w() {
            Pair::Same(self.h())
        } else {
            self
        }
    }

    /// The smaller of the two components.
    pub fn min(self) -> u64 {
        self.h().min(self.w())
    }
}

impl From<u64> for Pair {
    fn from(v: u64) -> Self {
        Pair::Same(v)
    }
}

impl fmt::Display for Pair {
    /// `5×5` for a kernel, the way the validation messages speak.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}×{}", self.h(), self.w())
    }
}

impl Serialize for Pair {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Pair::Same(v) => s.serialize_u64(v),
            Pair::HW(h, w) => [h, w].serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Pair {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PairVisitor)
    }
}

struct PairVisitor;

impl<'de> Visitor<'de> for PairVisitor {
    type Value = Pair;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative whole number or a list [height, width]")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Pair, E> {
        Ok(Pair::Same(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Pair, E> {
        u64::try_from(v)
            .map(Pair::Same)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pair, A::Error> {
        let h = seq
            .next_element::<u64>()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let w = seq
            .next_element::<u64>()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(Pair::HW(h, w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_written_form() {
        let one: Pair = serde_json::from_str("3").unwrap();
        let two: Pair = serde_json::from_str("[3, 5]").unwrap();
        assert_eq!(one, Pair::Same(3));
        assert_eq!(two, Pair::HW(3, 5));
        assert_eq!(serde_json::to_string(&one).unwrap(), "3");
        assert_eq!(serde_json::to_string(&two).unwrap(), "[3,5]");
    }

    #[test]
    fn rejects_bad_forms() {
        assert!(serde_json::from_str::<Pair>("-1").is_err());
        assert!(serde_json::from_str::<Pair>("[1]").is_err());
        assert!(serde_json::from_str::<Pair>("[1, 2, 3]").is_err());
        assert!(serde_json::from_str::<Pair>("\"3\"").is_err());
    }
}
