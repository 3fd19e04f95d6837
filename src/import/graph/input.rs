//! The graph's input, as netloom's Input block.

use super::Value;
use crate::design::InputOp;
use crate::import::ImportError;
use crate::onnx_proto::GraphProto;
use std::collections::HashMap;

/// The graph's one input (those that aren't initializers): its name, netloom's Input, and its
/// rank on the batched tensor.
pub(super) fn graph_input(
    graph: &GraphProto,
    values: &HashMap<String, Value>,
) -> Result<(String, InputOp, usize, Option<i64>), ImportError> {
    let inputs: Vec<_> = graph
        .input
        .iter()
        .filter(|i| !values.contains_key(&i.name))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(ImportError::Malformed {
            problem: format!(
                "the graph has {} inputs; netloom imports networks with one input (an image or a vector)",
                inputs.len()
            ),
        });
    };
    let dims: Vec<Option<i64>> = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match d.value {
                    Some(crate::onnx_proto::DimensionValue::DimValue(v)) if v > 0 => Some(v),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let fixed = |i: usize| dims.get(i).copied().flatten().map(|v| v as u64);
    let input_op = match dims.len() {
        4 => match (fixed(1), fixed(2), fixed(3)) {
            (Some(c), Some(h), Some(w)) => InputOp::image(c, h, w),
            _ => {
                return Err(ImportError::Malformed {
                    problem: format!(
                        "the input {:?} has no fixed channels, height and width; export with a fixed image size (only the batch may vary)",
                        input.name
                    ),
                });
            }
        },
        2 => match fixed(1) {
            Some(f) => InputOp::vector(f),
            None => {
                return Err(ImportError::Malformed {
                    problem: format!("the input {:?} has no fixed width", input.name),
                });
            }
        },
        n => {
            return Err(ImportError::Malformed {
                problem: format!(
                    "the input {:?} has {n} dimensions; netloom imports images (batch, channels, height, width) and vectors (batch, features)",
                    input.name
                ),
            });
        }
    };
    Ok((
        input.name.clone(),
        input_op,
        dims.len(),
        dims.first().copied().flatten(),
    ))
}
