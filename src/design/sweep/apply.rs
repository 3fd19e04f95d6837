//! A trial's design: the sweep's design with the trial's values written in.
//!
//! A parameter is addressed by a dotted name:
//! - `training.FIELD` (`training.learning_rate`, `training.optimizer`, `training.schedule`,
//!   `training.schedule.gamma`): a training setting;
//! - `data.FIELD` (`data.preprocessing`): a data setting; `augment.OP.FIELD`
//!   (`augment.rotate.degrees`, `augment.horizontal_flip.p`): every augmentation of that op;
//! - `NODE.FIELD` (`fc1.out_features`, `drop1.p`, `relu1.function`, `conv1.frozen`,
//!   `layer4.0.conv1.lr_mult`): a block's setting (the longest node name that prefixes it);
//! - `GROUP.frozen`, `GROUP.lr_mult` (`layer4.0.frozen`), and the same of a module path
//!   (`layer4.frozen`: every block whose name starts `layer4.`);
//! - `KIND.MEMBER.FIELD` (`BasicBlock.conv2.out_channels`): that member of every group of the
//!   kind, as the app's kind-wide edit; `KIND.frozen` every block of every such group.
//!
//! Each value goes through the design's own deserialisation, so a value of the wrong type is
//! refused in the file format's words, and the result is checked as any design is.

use super::{Sweep, Trial};
use crate::design::{Design, Node, Plan};
use serde_json::Value;

/// The design trial `trial` of `sweep` trains, or why it can't (the message names the
/// parameter, or gives the design's analysis message): that trial is skipped, not the sweep.
pub fn trial_design(sweep: &Sweep, base: &Design, trial: &Trial) -> Result<Design, String> {
    let mut design = base.clone();
    for (address, value) in &trial.values {
        set(&mut design, address, value)?;
    }
    let t = &mut design.training;
    t.seed = t.seed.wrapping_add(trial.repeat);
    if let Some(epochs) = sweep.epochs {
        t.epochs = epochs;
    }
    if let Some(first) = design.training.problems().into_iter().next() {
        return Err(first);
    }
    Plan::of(&design).map_err(|e| e.to_string())?;
    Ok(design)
}

/// Writes one parameter's value into the design.
pub fn set(design: &mut Design, address: &str, value: &Value) -> Result<(), String> {
    let bad = |why: String| format!("parameter \"{address}\": {why}");
    let parts: Vec<&str> = address.split('.').collect();
    match parts.as_slice() {
        ["training", path @ ..] if !path.is_empty() => {
            design.training = through_json(&design.training, path, value).map_err(bad)?;
        }
        ["augment", op, path @ ..] if !path.is_empty() => {
            let mut found = false;
            for a in &mut design.data.augmentation {
                let json = serde_json::to_value(*a).unwrap_or_default();
                if json.get("op").and_then(Value::as_str) == Some(op) {
                    *a = through_json(a, path, value).map_err(bad)?;
                    found = true;
                }
            }
            if !found {
                return Err(bad(format!(
                    "the design has no \"{op}\" augmentation: add one (the Train view's augmentation list, or data.augmentation in the file) or sweep another"
                )));
            }
        }
        ["data", path @ ..] if !path.is_empty() => {
            design.data = through_json(&design.data, path, value).map_err(bad)?;
        }
        _ => set_in_blocks(design, &parts, value).map_err(bad)?,
    }
    Ok(())
}

/// A node's, group's or group kind's setting.
fn set_in_blocks(design: &mut Design, parts: &[&str], value: &Value) -> Result<(), String> {
    // The longest node name that prefixes the address: names hold dots themselves.
    for cut in (1..parts.len()).rev() {
        let name = parts[..cut].join(".");
        if let Some(node) = design.nodes.iter_mut().find(|n| n.name == name) {
            return set_in_node(node, &parts[cut..], value);
        }
    }
    for cut in (1..parts.len()).rev() {
        let name = parts[..cut].join(".");
        if let Some(g) = design.groups.iter().find(|g| g.name == name) {
            let members = g.members.clone();
            return set_in_members(design, &members, &parts[cut..], value, &name);
        }
    }
    // A module path above the groups (`layer4` over `layer4.0` and `layer4.1`), as PyTorch's.
    if let [path @ .., "frozen" | "lr_mult"] = parts {
        let prefix = format!("{}.", path.join("."));
        let members: Vec<crate::design::NodeId> = design
            .nodes
            .iter()
            .filter(|n| n.name.starts_with(&prefix))
            .map(|n| n.id)
            .collect();
        if !members.is_empty() {
            return set_in_members(
                design,
                &members,
                &parts[path.len()..],
                value,
                &path.join("."),
            );
        }
    }
    let kind = parts[0];
    let groups: Vec<(String, Vec<crate::design::NodeId>)> = design
        .groups
        .iter()
        .filter(|g| g.kind == kind)
        .map(|g| (g.name.clone(), g.members.clone()))
        .collect();
    if groups.is_empty() || parts.len() < 2 {
        return Err(format!(
            "no block, group or group kind is called \"{}\": address a block's setting as NAME.FIELD, e.g. fc1.out_features",
            parts[..parts.len().saturating_sub(1).max(1)].join(".")
        ));
    }
    for (group, members) in groups {
        if matches!(parts[1..], ["frozen"] | ["lr_mult"]) {
            set_in_members(design, &members, &parts[1..], value, &group)?;
            continue;
        }
        let (field, member) = (parts.len() - 1, parts[1..parts.len() - 1].join("."));
        let name = format!("{group}.{member}");
        let node = design
            .nodes
            .iter_mut()
            .find(|n| n.name == name)
            .ok_or_else(|| format!("the {kind} {group} has no block {name}"))?;
        set_in_node(node, &parts[field..], value)?;
    }
    Ok(())
}

/// `frozen` or `lr_mult` of every member of a group.
fn set_in_members(
    design: &mut Design,
    members: &[crate::design::NodeId],
    field: &[&str],
    value: &Value,
    group: &str,
) -> Result<(), String> {
    if !matches!(field, ["frozen"] | ["lr_mult"]) {
        return Err(format!(
            "a group's own settings are frozen and lr_mult; its blocks' settings are addressed by their names, e.g. {group}.conv1.out_channels"
        ));
    }
    for node in design.nodes.iter_mut().filter(|n| members.contains(&n.id)) {
        set_in_node(node, field, value)?;
    }
    Ok(())
}

/// A node's `frozen`, `lr_mult` or a setting of its op.
fn set_in_node(node: &mut Node, field: &[&str], value: &Value) -> Result<(), String> {
    match field {
        ["frozen"] => {
            node.frozen = value
                .as_bool()
                .ok_or_else(|| format!("frozen is true or false, not {value}"))?;
        }
        ["lr_mult"] => {
            let m = value
                .as_f64()
                .filter(|m| m.is_finite() && *m > 0.0)
                .ok_or_else(|| format!("lr_mult is a positive number, not {value}"))?;
            node.lr_mult = Some(m);
        }
        ["type"] => return Err("a block's type can't be swept: sweep its settings".to_owned()),
        path => {
            node.op = through_json(&node.op, path, value).map_err(|e| {
                format!(
                    "{e} (the settings of {} are in docs/design-format.md)",
                    node.name
                )
            })?;
        }
    }
    Ok(())
}

/// `thing` with the field at `path` set to `value`, through its JSON form, so the design's
/// own rules (field names, types) judge it.
fn through_json<T>(thing: &T, path: &[&str], value: &Value) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut json = serde_json::to_value(thing).map_err(|e| e.to_string())?;
    let mut at = &mut json;
    for (i, key) in path.iter().enumerate() {
        let Some(object) = at.as_object_mut() else {
            return Err(format!(
                "{} is not a group of settings",
                path[..i].join(".")
            ));
        };
        if i + 1 == path.len() {
            object.insert((*key).to_owned(), value.clone());
            break;
        }
        at = object
            .get_mut(*key)
            .ok_or_else(|| format!("there is no setting {}", path[..=i].join(".")))?;
    }
    serde_json::from_value(json).map_err(|e| format!("{value} doesn't fit: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{Op, lenet_example, templates};
    use serde_json::json;

    fn with(design: &Design, address: &str, value: Value) -> Result<Design, String> {
        let mut d = design.clone();
        set(&mut d, address, &value).map(|()| d)
    }

    #[test]
    fn training_node_and_augmentation_settings_are_reached_by_name() {
        let lenet = lenet_example();
        let d = with(&lenet, "training.learning_rate", json!(0.003)).unwrap();
        assert_eq!(d.training.learning_rate, 0.003);
        let d = with(&lenet, "training.optimizer", json!("adam")).unwrap();
        assert_eq!(d.training.optimizer, crate::design::Optimizer::Adam);
        let d = with(&lenet, "fc1.out_features", json!(32)).unwrap();
        let Some(Op::Linear(l)) = d.node_by_name("fc1").map(|n| &n.op) else {
            panic!("fc1 is a linear layer")
        };
        assert_eq!(l.out_features, 32);
        let d = with(&lenet, "conv1.frozen", json!(true)).unwrap();
        assert!(d.node_by_name("conv1").is_some_and(|n| n.frozen));
        let mut aug = lenet.clone();
        aug.data.augmentation =
            serde_json::from_value(json!([{"op": "rotate", "degrees": 5.0}])).unwrap();
        let d = with(&aug, "augment.rotate.degrees", json!(20.0)).unwrap();
        assert_eq!(
            serde_json::to_value(d.data.augmentation[0]).unwrap()["degrees"],
            json!(20.0)
        );
        let err = with(&lenet, "augment.rotate.degrees", json!(20.0)).unwrap_err();
        assert!(err.contains("no \"rotate\" augmentation"), "{err}");
    }

    #[test]
    fn wrong_names_and_values_are_refused_naming_the_parameter() {
        let lenet = lenet_example();
        let err = with(&lenet, "fc9.out_features", json!(3)).unwrap_err();
        assert!(
            err.contains("\"fc9.out_features\"") && err.contains("fc9"),
            "{err}"
        );
        let err = with(&lenet, "fc1.out_feature", json!(3)).unwrap_err();
        assert!(err.contains("out_feature"), "{err}");
        let err = with(&lenet, "fc1.out_features", json!(2.5)).unwrap_err();
        assert!(err.contains("2.5"), "{err}");
        let err = with(&lenet, "training.learning_rat", json!(0.1)).unwrap_err();
        assert!(err.contains("learning_rat"), "{err}");
    }

    #[test]
    fn a_group_and_a_kind_reach_all_their_blocks() {
        let resnet = templates::template("resnet18", [3, 224, 224], 10).unwrap();
        let d = with(&resnet, "layer4.frozen", json!(true)).unwrap();
        let frozen: Vec<&str> = d
            .nodes
            .iter()
            .filter(|n| n.frozen)
            .map(|n| n.name.as_str())
            .collect();
        assert!(!frozen.is_empty() && frozen.iter().all(|n| n.starts_with("layer4.")));
        let d = with(&resnet, "BasicBlock.bn2.frozen", json!(true)).unwrap();
        let bn2 = d.nodes.iter().filter(|n| n.frozen).count();
        assert_eq!(bn2, 8, "one bn2 in each of resnet18's 8 BasicBlocks");
    }

    #[test]
    fn a_trial_that_breaks_the_network_says_why_in_the_analysis_words() {
        let lenet = lenet_example();
        let sweep = Sweep::from_json(
            &json!({"format": "netloom-sweep", "epochs": 2,
                "parameters": {"conv2.kernel_size": {"values": [5, 40]}}})
            .to_string(),
        )
        .unwrap();
        let trials = sweep.trials();
        let ok = trial_design(&sweep, &lenet, &trials[0]).unwrap();
        assert_eq!(ok.training.epochs, 2);
        let err = trial_design(&sweep, &lenet, &trials[1]).unwrap_err();
        assert!(err.contains("conv2"), "{err}");
    }
}
