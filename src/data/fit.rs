//! The one rule for whether data can train a design: the Input takes the data's sample
//! shape, and the last layer gives one score per class. The app checks it as soon as data has
//! loaded (Train is disabled with the reason), the CLI and the engine before a run, export
//! before it writes train.py's data, and a sweep before each of its runs: one function, one
//! wording, each saying what to change.

use super::Dataset;
use crate::design::{Analysis, Design, Loss, Op, Shape};

/// Why data can't train a design.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Misfit {
    /// The Input's shape is not the data's.
    #[error(
        "node \"{node}\" takes samples of shape {design} but {data} has samples of shape {shape}: set \"{node}\" to {shape} (or pick data that fits)"
    )]
    InputShape {
        /// The Input node.
        node: String,
        /// The shape it takes.
        design: String,
        /// The dataset's name.
        data: String,
        /// The dataset's sample shape.
        shape: String,
    },
    /// The last layer's width is not the number of classes.
    #[error(
        "node \"{node}\" gives {} but {data} has {}: {}",
        crate::units::count(*width, "output"),
        crate::units::count(*classes, "class"),
        if *classes < 2 { "classifying needs at least 2 classes: pick data with two or more (a one-class set has nothing to tell apart)".to_owned() }
        else if *linear { format!("set \"{node}\" to {classes} outputs (out_features)") } else { format!("add a Linear with {classes} outputs after \"{node}\", before the Output") }
    )]
    OutputWidth {
        /// The last layer before the Output.
        node: String,
        /// Whether that layer is a Linear (whose out_features is the fix); a Concat, pooling or
        /// activation has no width to set, so the fix is a Linear after it.
        linear: bool,
        /// Its outputs.
        width: u64,
        /// The dataset's name.
        data: String,
        /// Its classes.
        classes: u64,
    },
    /// Regression data, but the network ends in more than one value (or not in a vector).
    #[error(
        "node \"{node}\" gives {shape} but {data} predicts one value, \"{target}\": {}",
        if *linear { format!("set \"{node}\" to 1 output (out_features)") } else { format!("add Flatten and a Linear with 1 output after \"{node}\", before the Output") }
    )]
    NotOneValue {
        /// The last layer before the Output.
        node: String,
        /// Whether it is a Linear (its out_features is the fix).
        linear: bool,
        /// What it gives, in words.
        shape: String,
        /// The dataset's name.
        data: String,
        /// The quantity predicted.
        target: String,
    },
    /// Regression data, but the Output's loss is for classes.
    #[error(
        "{data} predicts a quantity, \"{target}\", but \"{node}\" has the cross-entropy loss, which is for classes: set \"{node}\"'s loss to mse"
    )]
    ClassLoss {
        /// The Output node.
        node: String,
        /// The dataset's name.
        data: String,
        /// The quantity predicted.
        target: String,
    },
    /// Segmentation data, but the network doesn't end in a score per class at every pixel.
    #[error(
        "node \"{node}\" gives {shape} but {data} has a mask of {classes} classes per {h}×{w} image: end the network in {classes}×{h}×{w} (e.g. a 1×1 Conv2d with {classes} output channels at the images' size), a score per class at every pixel"
    )]
    NotPixelScores {
        /// The last layer before the Output.
        node: String,
        /// What it gives, in words.
        shape: String,
        /// The dataset's name.
        data: String,
        /// Its classes.
        classes: u64,
        /// The masks' height.
        h: u64,
        /// The masks' width.
        w: u64,
    },
    /// Segmentation data, but the Output's loss is MSE.
    #[error(
        "{data} has a class per pixel, but \"{node}\" has the MSE loss: set \"{node}\"'s loss to cross_entropy (per pixel)"
    )]
    MaskLoss {
        /// The Output node.
        node: String,
        /// The dataset's name.
        data: String,
    },
    /// The network does not end in one score per class.
    #[error(
        "node \"{node}\" gives a {shape} tensor but classification needs one score per class: add Flatten and a Linear with {classes} outputs before the Output"
    )]
    NotScores {
        /// The last layer before the Output.
        node: String,
        /// What it gives.
        shape: String,
        /// The dataset's classes.
        classes: u64,
    },
}

impl Misfit {
    /// A few words for the status bar ("data 1×28×28 doesn't fit the 3×32×32 input"), so it
    /// never says "valid" alone while the Train view says the data won't do.
    pub fn short(&self) -> String {
        match self {
            Misfit::InputShape { design, shape, .. } => {
                format!("data {shape} doesn't fit the {design} input")
            }
            Misfit::OutputWidth { width, classes, .. } => format!(
                "data has {} but the design {}",
                crate::units::count(*classes, "class"),
                crate::units::count(*width, "output")
            ),
            Misfit::NotScores { shape, .. } => {
                format!("the design ends in a {shape} tensor, not a score per class")
            }
            Misfit::NotOneValue { shape, .. } => {
                format!("the design gives {shape}, not the one value the data predicts")
            }
            Misfit::ClassLoss { .. } => {
                "the data is a regression; the Output's loss is cross-entropy".to_owned()
            }
            Misfit::NotPixelScores {
                shape,
                classes,
                h,
                w,
                ..
            } => format!("the design gives {shape}; the masks need {classes}×{h}×{w}"),
            Misfit::MaskLoss { .. } => {
                "the data is a segmentation; the Output's loss is MSE".to_owned()
            }
        }
    }
}

/// Checks that `data` can train `design` (whose `analysis` gives the shapes). A design whose
/// own shapes aren't known yet (it has problems) passes here: those problems are said first.
pub fn check(design: &Design, analysis: &Analysis, data: &Dataset) -> Result<(), Misfit> {
    let shape_of = |n: &crate::design::Node| analysis.report(n.id).and_then(|r| r.output);
    let input = design.nodes.iter().find(|n| matches!(n.op, Op::Input(_)));
    check_shapes(
        design,
        input.and_then(shape_of),
        design.output_source().and_then(shape_of),
        data,
    )
}

/// The same rule for shapes already known: the Input's per-sample shape and what reaches the
/// Output (a compiled network knows both, so a run needn't analyse the design again).
pub fn check_shapes(
    design: &Design,
    input: Option<Shape>,
    scores: Option<Shape>,
    data: &Dataset,
) -> Result<(), Misfit> {
    let Some(node) = design.nodes.iter().find(|n| matches!(n.op, Op::Input(_))) else {
        return Ok(());
    };
    let Some(shape) = input else {
        return Ok(());
    };
    if shape != data.shape {
        return Err(Misfit::InputShape {
            node: node.name.clone(),
            design: shape.to_string(),
            data: data.name.clone(),
            shape: data.shape.to_string(),
        });
    }
    let (Some(last), Some(out)) = (design.output_source(), scores) else {
        return Ok(());
    };
    if let Some(q) = &data.quantity {
        return check_regression(design, last, out, data, &q.name);
    }
    if data.is_segmentation() {
        return check_segmentation(design, last, out, data);
    }
    let classes = data.classes.len() as u64;
    match out.as_vector() {
        Some(width) if width == classes => Ok(()),
        Some(width) => Err(Misfit::OutputWidth {
            node: last.name.clone(),
            linear: matches!(last.op, Op::Linear(_)),
            width,
            data: data.name.clone(),
            classes,
        }),
        None => Err(Misfit::NotScores {
            node: last.name.clone(),
            shape: out.to_string(),
            classes,
        }),
    }
}

/// Regression: the network ends in one value and the Output's loss is MSE.
fn check_regression(
    design: &Design,
    last: &crate::design::Node,
    out: Shape,
    data: &Dataset,
    target: &str,
) -> Result<(), Misfit> {
    let output = design.nodes.iter().find_map(|n| match &n.op {
        Op::Output(o) => Some((n, o.loss)),
        _ => None,
    });
    if let Some((node, Loss::CrossEntropy)) = output {
        return Err(Misfit::ClassLoss {
            node: node.name.clone(),
            data: data.name.clone(),
            target: target.to_owned(),
        });
    }
    if out.as_vector() != Some(1) {
        let shape = match out.as_vector() {
            Some(w) => crate::units::count(w, "output"),
            None => format!("a {out} tensor"),
        };
        return Err(Misfit::NotOneValue {
            node: last.name.clone(),
            linear: matches!(last.op, Op::Linear(_)) && out.as_vector().is_some(),
            shape,
            data: data.name.clone(),
            target: target.to_owned(),
        });
    }
    Ok(())
}

/// Segmentation: a score per class at every pixel of the masks' size, and cross-entropy.
fn check_segmentation(
    design: &Design,
    last: &crate::design::Node,
    out: Shape,
    data: &Dataset,
) -> Result<(), Misfit> {
    if let Some(node) = design
        .nodes
        .iter()
        .find(|n| matches!(&n.op, Op::Output(o) if o.loss == Loss::Mse))
    {
        return Err(Misfit::MaskLoss {
            node: node.name.clone(),
            data: data.name.clone(),
        });
    }
    let (_, h, w) = data.shape.as_image().unwrap_or((1, 1, 1));
    let classes = data.classes.len() as u64;
    if out.as_image() != Some((classes, h, w)) {
        return Err(Misfit::NotPixelScores {
            node: last.name.clone(),
            shape: out.to_string(),
            data: data.name.clone(),
            classes,
            h,
            w,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Samples, Split};
    use crate::design::{Shape, analyse};

    /// An empty dataset of `shape` with `classes` classes: the rule reads nothing else.
    fn data([c, h, w]: [u64; 3], classes: usize) -> Dataset {
        let empty = || Split {
            masks: Vec::new(),
            values: Vec::new(),
            samples: Samples::U8(Vec::new()),
            labels: Vec::new(),
        };
        Dataset {
            table: None,
            quantity: None,
            name: "toy".to_owned(),
            shape: Shape::image(c, h, w),
            classes: (0..classes).map(|i| i.to_string()).collect(),
            train: empty(),
            val: empty(),
            skipped: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn one_class_is_said_to_be_unclassifiable_not_a_width_to_set() {
        let e = Misfit::OutputWidth {
            node: "fc2".to_owned(),
            linear: true,
            width: 2,
            data: "toy".to_owned(),
            classes: 1,
        }
        .to_string();
        assert!(e.contains("gives 2 outputs but toy has 1 class:"), "{e}");
        assert!(e.contains("classifying needs at least 2 classes"), "{e}");
        assert!(!e.contains("set \"fc2\" to 1 outputs"), "{e}");
    }

    #[test]
    fn lenet_fits_fashion_mnist_and_each_misfit_says_what_to_change() {
        let design = crate::design::lenet_example();
        let analysis = analyse(&design);
        let fits = data([1, 28, 28], 10);
        assert_eq!(check(&design, &analysis, &fits), Ok(()));
        let e = check(&design, &analysis, &data([3, 32, 32], 10)).unwrap_err();
        assert_eq!(e.short(), "data 3×32×32 doesn't fit the 1×28×28 input");
        assert!(e.to_string().contains("set \"input\" to 3×32×32"), "{e}");
        let e = check(&design, &analysis, &data([1, 28, 28], 3)).unwrap_err();
        assert_eq!(e.short(), "data has 3 classes but the design 10 outputs");
        // A network ending in an image, not scores: the app used to miss this one.
        let mut conv_end = design.clone();
        let out = conv_end.node_by_name("output").unwrap().id;
        let conv1 = conv_end.node_by_name("pool1").unwrap().id;
        conv_end.edges.retain(|e| e.to != out);
        conv_end.connect(conv1, out, 0);
        let analysis = analyse(&conv_end);
        let e = check(&conv_end, &analysis, &fits).unwrap_err();
        assert!(matches!(e, Misfit::NotScores { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("add Flatten and a Linear with 10 outputs"),
            "{e}"
        );
    }
}
