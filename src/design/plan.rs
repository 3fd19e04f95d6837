//! The one walk of a design that everything downstream builds from: its nodes in execution
//! order, each with its inputs (by port) and shapes. The libtorch compiler
//! (`engine::network`), the ONNX writer, the PyTorch code writer and TorchScript (which traces
//! the compiled network) all consume a [`Plan`], so a new node kind needs its op and shape
//! rule here in `design`, its libtorch layer, and one arm per exporter: nothing re-derives
//! the graph (docs/architecture.md, "Adding a node kind").

use super::{Design, Loss, Node, Op, Shape, analyse};
use std::collections::HashMap;

/// Why a design has no plan: only a valid design with one Input and one Output is compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The analysis found problems.
    #[error("the design has {}; fix them first: {first}", problems(*count))]
    Invalid {
        /// How many problems.
        count: usize,
        /// The first one, in full.
        first: String,
    },
    /// The design lacks an Input or an Output.
    #[error("the design needs one Input and one Output")]
    NoInputOrOutput,
}

/// "1 problem", "3 problems" (the core names no helper crate of ours).
fn problems(n: usize) -> String {
    if n == 1 {
        "1 problem".to_owned()
    } else {
        format!("{n} problems")
    }
}

/// One node, ready to be compiled or written out.
#[derive(Debug)]
pub struct Step<'d> {
    /// The design's node.
    pub node: &'d Node,
    /// Positions (in [`Plan::steps`]) of the nodes feeding it, by port.
    pub inputs: Vec<usize>,
    /// The per-sample shape on its first input.
    pub in_shape: Option<Shape>,
    /// Its per-sample output shape.
    pub out_shape: Option<Shape>,
}

/// A valid design in execution order.
#[derive(Debug)]
pub struct Plan<'d> {
    /// Every node, each after the nodes it reads.
    pub steps: Vec<Step<'d>>,
    /// The Input node's per-sample shape.
    pub input: Shape,
    /// The Output node's per-sample shape (what the loss sees).
    pub output: Shape,
    /// The Output node's loss.
    pub loss: Loss,
}

impl<'d> Plan<'d> {
    /// The plan of `design`, or why there is none.
    ///
    /// ```
    /// use netloom::design::{Plan, templates};
    /// let lenet = templates::template("lenet", [1, 28, 28], 10).unwrap();
    /// let plan = Plan::of(&lenet).unwrap();
    /// assert_eq!(plan.input.to_string(), "1×28×28");
    /// assert_eq!(plan.output.to_string(), "10");
    /// // Every step reads only steps before it.
    /// assert!(plan.steps.iter().enumerate().all(|(i, s)| s.inputs.iter().all(|&j| j < i)));
    /// ```
    pub fn of(design: &'d Design) -> Result<Plan<'d>, PlanError> {
        let analysis = analyse(design);
        if let Some(first) = analysis.problems.first() {
            return Err(PlanError::Invalid {
                count: analysis.problems.len(),
                first: first.message.clone(),
            });
        }
        let mut pos = HashMap::new();
        let mut steps: Vec<Step<'d>> = Vec::with_capacity(analysis.order.len());
        let (mut input, mut output, mut loss) = (None, None, Loss::CrossEntropy);
        for &id in &analysis.order {
            let Some(node) = design.node(id) else {
                continue;
            };
            let inputs: Vec<usize> = design
                .incoming(id)
                .iter()
                .filter_map(|e| pos.get(&e.from).copied())
                .collect();
            let in_shape = inputs.first().and_then(|&i| steps[i].out_shape);
            let out_shape = analysis.report(id).and_then(|r| r.output);
            match &node.op {
                Op::Input(_) => input = out_shape,
                Op::Output(o) => {
                    output = in_shape;
                    loss = o.loss;
                }
                _ => {}
            }
            pos.insert(id, steps.len());
            steps.push(Step {
                node,
                inputs,
                in_shape,
                out_shape,
            });
        }
        let (Some(input), Some(output)) = (input, output) else {
            return Err(PlanError::NoInputOrOutput);
        };
        Ok(Plan {
            steps,
            input,
            output,
            loss,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::templates;

    #[test]
    fn a_plan_lists_every_node_after_its_inputs_with_their_shapes() {
        let design = templates::template("resnet18", [3, 32, 32], 10).unwrap();
        let plan = Plan::of(&design).unwrap();
        assert_eq!(plan.steps.len(), design.nodes.len());
        for (i, step) in plan.steps.iter().enumerate() {
            assert!(step.inputs.iter().all(|&j| j < i), "{}", step.node.name);
            assert_eq!(step.inputs.len(), design.incoming(step.node.id).len());
            assert_eq!(
                step.in_shape,
                step.inputs.first().and_then(|&j| plan.steps[j].out_shape)
            );
        }
        assert_eq!(plan.input, design.input_shape().unwrap());
    }

    #[test]
    fn an_invalid_design_has_no_plan_and_says_its_first_problem() {
        let mut design = crate::design::lenet_example();
        let out = design.node_by_name("output").unwrap().id;
        design.edges.retain(|e| e.to != out);
        let err = Plan::of(&design).unwrap_err();
        let PlanError::Invalid { count, first } = &err else {
            panic!("{err:?}");
        };
        assert!(*count >= 1 && !first.is_empty());
        assert!(err.to_string().starts_with("the design has "), "{err}");
    }
}
