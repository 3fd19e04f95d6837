//! Mapping a weights file's tensors onto a network by name (`conv1.weight` → node conv1), with
//! a report of what matched before anything is applied.

use super::error::{EngineError, TorchContext};
use super::params::{ParamStore, fits};
use super::weights::read_weights_wanted;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tch::Tensor;

/// How a weights file's tensors map onto a network, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WeightsReport {
    /// In both, with the same shape: these are loaded. (name, shape)
    pub matched: Vec<(String, Vec<i64>)>,
    /// The network has them, the file doesn't: they keep their fresh initialisation.
    pub missing: Vec<(String, Vec<i64>)>,
    /// The file has them, the network doesn't: ignored.
    pub unexpected: Vec<(String, Vec<i64>)>,
    /// In both with different shapes: (name, in the file, in the network); not loaded.
    pub mismatched: Vec<(String, Vec<i64>, Vec<i64>)>,
    /// Matched, but left out on purpose (e.g. a head to re-initialise).
    pub skipped: Vec<String>,
}

impl WeightsReport {
    /// Compares the file's (name, shape) list with the network's; `skip` names tensors or
    /// nodes not to load even when they match.
    pub fn compare(
        file: &[(String, Vec<i64>)],
        net: &[(String, Vec<i64>)],
        skip: &[String],
    ) -> WeightsReport {
        let in_file: HashMap<&str, &Vec<i64>> = file.iter().map(|(n, s)| (n.as_str(), s)).collect();
        let in_net: HashSet<&str> = net.iter().map(|(n, _)| n.as_str()).collect();
        let mut r = WeightsReport::default();
        for (name, shape) in net {
            match in_file.get(name.as_str()) {
                None => r.missing.push((name.clone(), shape.clone())),
                Some(fs) if !fits(fs, shape) => {
                    r.mismatched
                        .push((name.clone(), (*fs).clone(), shape.clone()))
                }
                Some(_) if is_skipped(name, skip) => r.skipped.push(name.clone()),
                Some(_) => r.matched.push((name.clone(), shape.clone())),
            }
        }
        r.unexpected = file
            .iter()
            .filter(|(n, _)| !in_net.contains(n.as_str()))
            .cloned()
            .collect();
        r
    }

    /// True when every tensor of both sides matched.
    pub fn is_exact(&self) -> bool {
        self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.mismatched.is_empty()
            && self.skipped.is_empty()
    }

    /// The report as a plain-text table, as `netloom train --init-weights` prints it.
    pub fn table(&self) -> String {
        let shape = |s: &[i64]| {
            let dims: Vec<String> = s.iter().map(i64::to_string).collect();
            format!("[{}]", dims.join(", "))
        };
        let mut out = format!(
            "{} matched, {} missing in the file, {} unexpected in the file, {} shape mismatches{}\n",
            self.matched.len(),
            self.missing.len(),
            self.unexpected.len(),
            self.mismatched.len(),
            if self.skipped.is_empty() {
                String::new()
            } else {
                format!(", {} left out", self.skipped.len())
            }
        );
        for (n, s) in &self.matched {
            out += &format!("  matched      {n} {}\n", shape(s));
        }
        for n in &self.skipped {
            out += &format!("  left out     {n} (re-initialised)\n");
        }
        for (n, s) in &self.missing {
            out += &format!(
                "  missing      {n} {} (keeps its fresh initialisation)\n",
                shape(s)
            );
        }
        for (n, s) in &self.unexpected {
            out += &format!("  unexpected   {n} {} (ignored)\n", shape(s));
        }
        for (n, f, d) in &self.mismatched {
            out += &format!(
                "  mismatch     {n}: {} in the file, {} in the design (re-initialised)\n",
                shape(f),
                shape(d)
            );
        }
        out
    }
}

/// The node a tensor belongs to: its name without the tensor's own part
/// (`layer1.0.bn1.weight` → `layer1.0.bn1`); a bare parameter such as a LayerScale's
/// (`features.1.0.layer_scale`) is its node.
pub fn node_of(tensor: &str) -> &str {
    match tensor.rsplit_once('.') {
        Some((
            node,
            "weight" | "bias" | "running_mean" | "running_var" | "num_batches_tracked",
        )) => node,
        _ => tensor,
    }
}

/// True when `skip` names `tensor` itself or a node (or module path) it lies under.
pub fn is_skipped(tensor: &str, skip: &[String]) -> bool {
    skip.iter().any(|s| {
        tensor == s || (tensor.starts_with(s.as_str()) && tensor[s.len()..].starts_with('.'))
    })
}

/// How a file's (name, shape) list maps onto `design`, whose tensors are named and shaped
/// exactly as training makes them (the design is compiled on the CPU for that).
pub fn report_for(
    design: &crate::design::Design,
    file: &[(String, Vec<i64>)],
    skip: &[String],
) -> Result<WeightsReport, EngineError> {
    let net = super::Network::compile(design, tch::Device::Cpu)?;
    Ok(WeightsReport::compare(file, &net.params.shapes(), skip))
}

/// Loads the tensors of `path` that match `params` by name and shape (except `skip`), and
/// reports the mapping. A file that matches nothing at all is an error: it is surely the
/// wrong file, and training on would silently start from scratch.
pub fn apply_weights(
    params: &ParamStore,
    path: &Path,
    skip: &[String],
) -> Result<WeightsReport, EngineError> {
    let ours: HashMap<String, Vec<i64>> = params.shapes().into_iter().collect();
    // Only tensors of the design's names and shapes are read: a mismatch is reported from the
    // file's list, its data never loaded.
    let (named, file_shapes) = read_weights_wanted(path, &|name, shape| {
        ours.get(name).is_some_and(|s| fits(shape, s)) && !is_skipped(name, skip)
    })?;
    let report = WeightsReport::compare(&file_shapes, &params.shapes(), skip);
    if report.matched.is_empty() && report.skipped.is_empty() {
        let hint = match (report.mismatched.first(), report.unexpected.first()) {
            (Some((n, f, d)), _) => format!(
                "every tensor has the wrong shape, e.g. \"{n}\" is {f:?} in the file but {d:?} in the design"
            ),
            (None, Some((n, _))) => format!(
                "no tensor name matches a node, e.g. the file's \"{n}\"; rename the nodes to the file's names (conv1 for conv1.weight) or use a template"
            ),
            (None, None) => "the file holds no tensors".to_owned(),
        };
        return Err(EngineError::BadFile {
            problem: format!("none of its weights fit this design: {hint}"),
            path: path.to_owned(),
        });
    }
    let by_name: HashMap<&str, &Tensor> = named.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let _guard = tch::no_grad_guard();
    for (name, _) in &report.matched {
        if let (Some(src), Some(p)) = (by_name.get(name.as_str()), params.by_name(name)) {
            let mut dst = p.tensor.shallow_clone();
            let src = src
                .f_reshape(dst.size())
                .ctx("loading pretrained weights")?;
            dst.f_copy_(&src.to_kind(dst.kind()).to_device(dst.device()))
                .ctx("loading pretrained weights")?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn s(n: &str, shape: &[i64]) -> (String, Vec<i64>) {
        (n.to_owned(), shape.to_vec())
    }

    #[test]
    fn the_report_sorts_every_tensor_into_one_bin() {
        let file = [
            s("conv1.weight", &[6, 1, 5, 5]),
            s("fc.weight", &[10, 84]),
            s("extra.weight", &[3]),
        ];
        let net = [
            s("conv1.weight", &[6, 1, 5, 5]),
            s("conv1.bias", &[6]),
            s("fc.weight", &[5, 84]),
        ];
        let r = WeightsReport::compare(&file, &net, &[]);
        assert_eq!(r.matched, [s("conv1.weight", &[6, 1, 5, 5])]);
        assert_eq!(r.missing, [s("conv1.bias", &[6])]);
        assert_eq!(r.unexpected, [s("extra.weight", &[3])]);
        assert_eq!(
            r.mismatched,
            [("fc.weight".to_owned(), vec![10, 84], vec![5, 84])]
        );
        assert!(
            r.table()
                .contains("[10, 84] in the file, [5, 84] in the design")
        );
        let r = WeightsReport::compare(&file, &net, &["conv1".to_owned()]);
        assert!(r.matched.is_empty());
        assert_eq!(r.skipped, ["conv1.weight"]);
        let r = WeightsReport::compare(&file, &net, &["conv".to_owned()]);
        assert_eq!(r.matched.len(), 1, "a skip names whole path parts");
    }
}
