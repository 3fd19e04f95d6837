//! What every exporter walks: the design's nodes in execution order, each with its inputs (by
//! port) and shapes. Built once from the analysis, so exporters never re-derive the graph.

use super::ExportError;
use crate::design::{Design, Node, NodeId, Shape, analyse};
use std::collections::HashMap;

/// One node, ready to be written out.
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
}

impl<'d> Plan<'d> {
    /// The plan of `design`, or the design's first problem: only a valid design is exported.
    pub fn of(design: &'d Design) -> Result<Plan<'d>, ExportError> {
        let analysis = analyse(design);
        if let Some(first) = analysis.problems.first() {
            return Err(ExportError::InvalidDesign {
                count: analysis.problems.len(),
                first: first.message.clone(),
            });
        }
        let mut pos: HashMap<NodeId, usize> = HashMap::new();
        let mut steps: Vec<Step<'d>> = Vec::with_capacity(analysis.order.len());
        for &id in &analysis.order {
            let Some(node) = design.node(id) else {
                continue;
            };
            let incoming = design.incoming(id);
            let inputs: Vec<usize> = incoming
                .iter()
                .filter_map(|e| pos.get(&e.from).copied())
                .collect();
            let in_shape = inputs.first().and_then(|&i| steps[i].out_shape);
            pos.insert(id, steps.len());
            steps.push(Step {
                node,
                inputs,
                in_shape,
                out_shape: analysis.report(id).and_then(|r| r.output),
            });
        }
        Ok(Plan { steps })
    }

    /// The Input node's per-sample shape.
    pub fn input_shape(&self) -> Option<Shape> {
        self.steps
            .iter()
            .find(|s| s.inputs.is_empty())
            .and_then(|s| s.out_shape)
    }

    /// The Output node's per-sample shape.
    pub fn output_shape(&self) -> Option<Shape> {
        self.steps.last().and_then(|s| s.in_shape)
    }
}
