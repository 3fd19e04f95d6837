//! Networks that predict a class at every pixel (segmentation): the U-Net, and an FCN head on
//! ResNet-18's trunk.
//!
//! The U-Net's node names are those of the most used PyTorch U-Net (milesial/Pytorch-UNet:
//! `inc.double_conv.0`, `down1.maxpool_conv.1.double_conv.3`, `up1.up`, `outc.conv`), so its
//! state dicts load by name; the FCN's trunk is torchvision's resnet18 (`conv1`, `layer1.0.…`),
//! so ImageNet weights load onto it and can be frozen while the head learns.

use super::*;

/// `DoubleConv` at `prefix`: (3×3 convolution, batch norm, ReLU) twice, the size kept.
fn double_conv(b: &mut Builder, prefix: &str, out: u64) -> NodeId {
    for (i, _) in [0, 1].iter().enumerate() {
        b.then(
            &format!("{prefix}.double_conv.{}", 3 * i),
            conv(out, 3, 1, 1, false),
        );
        b.then(&format!("{prefix}.double_conv.{}", 3 * i + 1), bn());
        b.then(&format!("{prefix}.double_conv.{}", 3 * i + 2), relu());
    }
    b.last
}

/// The common 4-level U-Net: widths `width`, 2·`width`, … 16·`width` (64 gives the paper's 64
/// to 1024), each level a DoubleConv; down by 2×2 max pooling, up by a stride-2 transposed
/// convolution whose output is concatenated with the skip connection of the same level; a 1×1
/// convolution to `classes` scores per pixel. Inputs whose sides divide by 16 keep their size.
pub(super) fn unet(b: &mut Builder, width: u64, classes: u64) {
    let first = b.design.next_id();
    let mut skips = vec![double_conv(b, "inc", width)];
    b.group(first, "inc", "DoubleConv");
    for level in 1..=4u64 {
        let p = format!("down{level}");
        let first = b.design.next_id();
        b.then(&format!("{p}.maxpool_conv.0"), max_pool(2, 2, 0));
        double_conv(b, &format!("{p}.maxpool_conv.1"), width << level);
        b.group(first, &p, "Down");
        skips.push(b.last);
    }
    skips.pop();
    for level in 1..=4u64 {
        let p = format!("up{level}");
        let first = b.design.next_id();
        let out = width << (4 - level);
        let up = b.then(
            &format!("{p}.up"),
            Op::ConvTranspose2d(ConvTranspose2d::new(out, 2, 2)),
        );
        let skip = skips.pop().unwrap_or(up);
        // torch.cat([x2, x1], dim=1): the skip first.
        b.last = b.node(&format!("{p}.cat"), Op::Concat(Merge {}), &[skip, up]);
        double_conv(b, &format!("{p}.conv"), out);
        b.group(first, &p, "Up");
    }
    b.then("outc.conv", conv(classes, 1, 1, 0, true));
    b.then("output", output());
}

/// torchvision's `FCNHead` (3×3 convolution to 128 channels, batch norm, ReLU, dropout 0.1,
/// 1×1 convolution to `classes`) on ResNet-18's trunk (stride 32), its scores upsampled
/// bilinearly to the input's size, as torchvision's FCN does.
pub(super) fn fcn_resnet18(b: &mut Builder, input: [u64; 3], classes: u64) {
    classic::resnet_trunk(b, [2, 2, 2, 2], false);
    let first = b.design.next_id();
    b.then("classifier.0", conv(128, 3, 1, 1, false));
    b.then("classifier.1", bn());
    b.then("classifier.2", relu());
    b.then("classifier.3", Op::Dropout(Dropout { p: 0.1 }));
    b.then("classifier.4", conv(classes, 1, 1, 0, true));
    b.group(first, "classifier", "FCNHead");
    b.then(
        "upsample",
        Op::Upsample(Upsample {
            mode: UpsampleMode::Bilinear,
            scale_factor: None,
            size: Some(Pair::HW(input[1], input[2])),
            align_corners: false,
        }),
    );
    b.then("output", output());
}
