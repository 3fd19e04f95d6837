//! Segmentation (`masks:DIR`): a set of shapes on noisy backgrounds, made here with palette and
//! with RGB masks, reads the same either way; a small U-Net learns it to a mean IoU of 0.9;
//! bad folders are refused naming the file; and joint augmentation keeps every mask pixel on
//! its image pixel.
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use netloom::data::masks::IGNORE;
use std::path::Path;

/// Image side: divisible by 16, for the U-Net's four halvings.
const SIDE: u32 = 48;

/// xorshift64: the generated set is the same on every machine.
struct Draw(u64);

impl Draw {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
}

/// Colours of the RGB masks: background, disc, square; white is ignored.
const COLOURS: [[u8; 3]; 3] = [[0, 0, 0], [255, 0, 0], [0, 0, 255]];

/// How a generated set writes its masks.
#[derive(Clone, Copy, PartialEq)]
enum MaskFormat {
    /// Palette PNGs, index = class, 255 ignored.
    Palette,
    /// RGB PNGs, classes.json mapping the colours.
    Rgb,
}

/// `n` images of a reddish disc and a bluish square on a noisy background, with masks: class
/// 1 the disc, 2 the square, 0 the rest, and a one-pixel ignored outline around each shape
/// (as Pascal VOC's masks have).
fn shapes(dir: &Path, n: usize, format: MaskFormat) {
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::create_dir_all(dir.join("masks")).unwrap();
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let s = f64::from(SIDE);
    for i in 0..n {
        let base = [
            draw.range(40.0, 200.0),
            draw.range(40.0, 200.0),
            draw.range(40.0, 200.0),
        ];
        let (cx, cy, r) = (
            draw.range(10.0, s - 10.0),
            draw.range(10.0, s - 10.0),
            draw.range(5.0, 9.0),
        );
        let (sx, sy, half) = (
            draw.range(8.0, s - 8.0),
            draw.range(8.0, s - 8.0),
            draw.range(4.0, 7.0),
        );
        let disc = [
            draw.range(180.0, 255.0),
            draw.range(0.0, 80.0),
            draw.range(0.0, 80.0),
        ];
        let square = [
            draw.range(0.0, 80.0),
            draw.range(0.0, 80.0),
            draw.range(180.0, 255.0),
        ];
        let mut image = image::RgbImage::new(SIDE, SIDE);
        let mut mask = vec![0u8; (SIDE * SIDE) as usize];
        for y in 0..SIDE {
            for x in 0..SIDE {
                let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
                let d = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt() - r;
                let q = (px - sx).abs().max((py - sy).abs()) - half;
                // The square is drawn over the disc.
                let (class, colour) = if q < 0.0 {
                    (2, square)
                } else if d < 0.0 {
                    (1, disc)
                } else {
                    (0, base)
                };
                let edge = q.abs() < 0.75 || (q >= 0.0 && d.abs() < 0.75);
                mask[(y * SIDE + x) as usize] = if edge { IGNORE } else { class };
                let px: [u8; 3] = std::array::from_fn(|c| {
                    (colour[c] + draw.range(-30.0, 30.0)).clamp(0.0, 255.0) as u8
                });
                image.put_pixel(x, y, image::Rgb(px));
            }
        }
        let name = format!("shape_{i:03}");
        image
            .save(dir.join("images").join(format!("{name}.png")))
            .unwrap();
        let path = dir.join("masks").join(format!("{name}.png"));
        match format {
            MaskFormat::Palette => palette_png(&path, &mask),
            MaskFormat::Rgb => {
                let rgb = image::RgbImage::from_fn(SIDE, SIDE, |x, y| {
                    let v = mask[(y * SIDE + x) as usize];
                    image::Rgb(if v == IGNORE {
                        [255; 3]
                    } else {
                        COLOURS[v as usize]
                    })
                });
                rgb.save(path).unwrap();
            }
        }
    }
    if format == MaskFormat::Rgb {
        std::fs::write(
            dir.join("classes.json"),
            r#"[{"name": "background", "color": [0, 0, 0]}, {"name": "disc", "color": [255, 0, 0]},
                {"name": "square", "color": [0, 0, 255]}, {"name": "edge", "color": [255, 255, 255], "ignore": true}]"#,
        )
        .unwrap();
    }
}

/// A palette PNG whose indices are `mask` (the palette itself is only for viewers).
fn palette_png(path: &Path, mask: &[u8]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, SIDE, SIDE);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    let mut palette = vec![0u8; 256 * 3];
    palette[3..6].copy_from_slice(&[200, 0, 0]);
    palette[6..9].copy_from_slice(&[0, 0, 200]);
    palette[255 * 3..].copy_from_slice(&[255, 255, 255]);
    encoder.set_palette(palette);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(mask).unwrap();
}

fn load(spec: &str) -> Result<netloom::data::Dataset, String> {
    netloom::data::DataSpec::parse(spec)
        .and_then(|s| s.load_for(None))
        .map_err(|e| e.to_string())
}

#[test]
fn a_small_unet_segments_generated_shapes_to_a_mean_iou_of_0_9() {
    let dir = tempdir("segmentation-unet");
    let (palette, rgb) = (dir.join("palette"), dir.join("rgb"));
    shapes(&palette, 300, MaskFormat::Palette);
    shapes(&rgb, 300, MaskFormat::Rgb);
    let spec = format!("masks:{}", palette.display());
    let data = load(&spec).unwrap();
    assert_eq!(data.shape.dims(), [3, SIDE as u64, SIDE as u64]);
    assert_eq!(data.classes, ["class 0", "class 1", "class 2"]);
    assert_eq!((data.train.len(), data.val.len()), (240, 60));
    // The RGB masks, through classes.json, are the same masks, named.
    let named = load(&format!("masks:{}", rgb.display())).unwrap();
    assert_eq!(named.classes, ["background", "disc", "square"]);
    assert_eq!(named.train.masks, data.train.masks);
    assert_eq!(named.val.masks, data.val.masks);
    assert!(data.train.masks.iter().flatten().any(|&v| v == IGNORE));

    let mut design = netloom::design::templates::unet([3, SIDE as u64, SIDE as u64], 3, 8);
    // The CLI writes the same network.
    let cli = dir.join("cli.json");
    let said = netloom_ok(&[
        "template",
        "unet",
        "--input",
        "3,48,48",
        "--classes",
        "3",
        "--width",
        "8",
        "-o",
        cli.to_str().unwrap(),
    ]);
    let written = netloom::design::from_json(&std::fs::read_to_string(&cli).unwrap()).unwrap();
    assert_eq!(
        (written.nodes, written.edges),
        (design.nodes.clone(), design.edges.clone()),
        "{said}"
    );
    design.training.optimizer = netloom::design::Optimizer::Adam;
    design.training.learning_rate = 0.005;
    design.training.batch_size = 16;
    design.training.epochs = 20;
    design.data.augmentation = vec![netloom::design::Augment::HorizontalFlip { p: 0.5 }];
    let path = dir.join("unet.json");
    std::fs::write(&path, netloom::design::to_json(&design)).unwrap();
    let out = dir.join("run");
    let (_, _, said) = netloom(&[
        "train",
        path.to_str().unwrap(),
        "--data",
        &spec,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(said.contains("mIoU"), "{said}");
    let rows = metrics(&out);
    let last = rows.iter().rev().find(|r| r[0] == "epoch").unwrap();
    let miou: f64 = last[15].parse().unwrap();
    assert!(miou >= 0.9, "validation mean IoU {miou}:\n{said}");
    let per_class: Vec<f64> = last[16].split(';').map(|v| v.parse().unwrap()).collect();
    assert_eq!(per_class.len(), 3);
    let pixel: f64 = last[8].parse().unwrap();
    assert!(pixel > miou, "pixel accuracy {pixel}, mean IoU {miou}");
    let eval = netloom_ok(&[
        "eval",
        out.join("design.json").to_str().unwrap(),
        "--weights",
        out.join("weights.safetensors").to_str().unwrap(),
        "--data",
        &spec,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&eval).unwrap();
    assert!(
        (v["mean_iou"].as_f64().unwrap() - miou).abs() < 1e-6,
        "{eval}"
    );
    // A classifier's head on segmentation data is refused with the fix.
    let classifier = dir.join("lenet.json");
    let lenet = netloom::design::templates::template("lenet", [3, 48, 48], 3).unwrap();
    std::fs::write(&classifier, netloom::design::to_json(&lenet)).unwrap();
    let (code, _, err) = netloom(&["train", classifier.to_str().unwrap(), "--data", &spec]);
    assert_ne!(code, 0);
    assert!(err.contains("end the network in 3×48×48"), "{err}");
}

#[test]
fn a_bad_mask_folder_is_refused_naming_the_file() {
    let dir = tempdir("segmentation-refused");
    let set = |name: &str, format| {
        let d = dir.join(name);
        shapes(&d, 4, format);
        d
    };
    let err = |d: &Path, query: &str| load(&format!("masks:{}{query}", d.display())).unwrap_err();

    let missing = set("missing", MaskFormat::Palette);
    std::fs::remove_file(missing.join("masks/shape_002.png")).unwrap();
    let e = err(&missing, "");
    assert!(
        e.contains("shape_002.png") && e.contains("it has no mask"),
        "{e}"
    );

    let orphan = set("orphan", MaskFormat::Palette);
    std::fs::remove_file(orphan.join("images/shape_001.png")).unwrap();
    let e = err(&orphan, "");
    assert!(
        e.contains("masks/shape_001.png") && e.contains("without an image"),
        "{e}"
    );

    let size = set("size", MaskFormat::Palette);
    image::GrayImage::new(SIDE, SIDE - 2)
        .save(size.join("masks/shape_003.png"))
        .unwrap();
    let e = err(&size, "");
    assert!(
        e.contains("shape_003.png") && e.contains("a mask must have its image's size"),
        "{e}"
    );

    let colour = set("colour", MaskFormat::Rgb);
    let mut m = image::open(colour.join("masks/shape_000.png"))
        .unwrap()
        .to_rgb8();
    m.put_pixel(5, 7, image::Rgb([10, 200, 10]));
    m.save(colour.join("masks/shape_000.png")).unwrap();
    let e = err(&colour, "");
    assert!(
        e.contains("shape_000.png") && e.contains("pixel (5, 7) has the colour [10, 200, 10]"),
        "{e}"
    );
    std::fs::remove_file(colour.join("classes.json")).unwrap();
    let e = err(&colour, "");
    assert!(
        e.contains("it is an RGB image: add DIR/classes.json"),
        "{e}"
    );

    // 255 in a mask while another value is the one ignored.
    let e = err(&set("ignore", MaskFormat::Palette), "?ignore=0");
    assert!(e.contains("is 255, but ignore=0"), "{e}");
    let e = netloom::data::DataSpec::parse("masks:/x?colours=3").unwrap_err();
    assert!(e.to_string().contains("the option is ignore=N"));
}

/// Every geometric augmentation, each applied (the flips half the time): what must move a
/// mask with its image.
fn every_geometric_op() -> Vec<netloom::design::Augment> {
    use netloom::design::Augment;
    vec![
        Augment::HorizontalFlip { p: 0.5 },
        Augment::VerticalFlip { p: 0.5 },
        Augment::Rotate {
            p: 1.0,
            degrees: 30.0,
        },
        Augment::Scale {
            p: 1.0,
            min: 0.8,
            max: 1.3,
            aspect: 0.1,
        },
        Augment::Shear {
            p: 1.0,
            degrees: 10.0,
        },
        Augment::Translate {
            p: 1.0,
            fraction: 0.1,
        },
        Augment::RandomCrop { p: 1.0, padding: 4 },
        Augment::Lens { p: 1.0, k: 0.1 },
    ]
}

#[test]
fn joint_augmentation_keeps_every_mask_pixel_on_its_image_pixel() {
    use netloom::data::augment::Augmenter;
    use netloom::design::Augment;
    use tch::{Kind, Tensor};
    // A checkerboard of 8×8 cells, four classes: the image has a channel per class, 1 in its
    // class's (so no blend of other cells' pixels can look like a cell's own), the mask the
    // class.
    let (n, side) = (6i64, 64i64);
    let mut classes = vec![0u8; (n * side * side) as usize];
    for i in 0..n {
        for y in 0..side {
            for x in 0..side {
                let c = ((x / 8 + 2 * (y / 8) + i) % 4) as u8;
                classes[(i * side * side + y * side + x) as usize] = c;
            }
        }
    }
    let masks = Tensor::from_slice(&classes).view([n, side, side]);
    let images = masks
        .to_kind(Kind::Int64)
        .one_hot(4)
        .permute([0, 3, 1, 2])
        .to_kind(Kind::Float)
        .contiguous();
    let geometric = every_geometric_op();
    let aug = Augmenter::new(geometric, None).unwrap();
    for seed in 0..4 {
        let (x, y) = aug.apply_joint(&images, Some(&masks), seed).unwrap();
        let y = y.unwrap();
        assert_eq!(y.size(), [n, side, side]);
        // The images are what augmenting them alone gives.
        let alone = aug.apply(&images, seed).unwrap();
        assert!(bool::try_from((&x - alone).abs().max().lt(1e-6)).unwrap());
        // [n, h, w, 4]: each pixel's four channels together.
        let x: Vec<f32> = Vec::try_from(x.permute([0, 2, 3, 1]).flatten(0, -1)).unwrap();
        let y: Vec<u8> = Vec::try_from(y.flatten(0, -1)).unwrap();
        let (mut checked, mut moved) = (0, 0);
        for (px, &c) in x.chunks_exact(4).zip(&y) {
            // A pixel sampled wholly inside one cell is that cell's one-hot exactly; the
            // mask's nearest pixel is in the same cell.
            let Some(pure) = px.iter().position(|&v| v > 1.0 - 1e-4) else {
                continue;
            };
            if c == IGNORE {
                continue;
            }
            checked += 1;
            if pure != usize::from(c) {
                moved += 1;
            }
        }
        assert_eq!(
            moved, 0,
            "seed {seed}: {moved} of {checked} mask pixels left their image pixel"
        );
        assert!(
            checked > y.len() / 4,
            "seed {seed}: only {checked} of {} pixels checked",
            y.len()
        );
        // What came in from outside the image is ignored, not background.
        assert!(y.contains(&IGNORE), "seed {seed}");
    }
    // Photometric operations leave the masks alone.
    let colour = Augmenter::new(
        vec![
            Augment::Brightness { p: 1.0, delta: 0.3 },
            Augment::Noise { p: 1.0, std: 0.1 },
        ],
        None,
    )
    .unwrap();
    let (_, y) = colour.apply_joint(&images, Some(&masks), 7).unwrap();
    assert!(bool::try_from(y.unwrap().eq_tensor(&masks).all()).unwrap());
}

/// In an exported train.py's folder: a one-hot checkerboard and its mask through the design's
/// geometric augmentations (printing pixels checked, pixels moved off their image pixel, and
/// pixels ignored), then through its value-only ones (which must leave the mask as it is).
const CHECKERBOARD_PY: &str = r#"
import torch, train
side = 64
yy, xx = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
mask = (xx // 8 + 2 * (yy // 8)) % 4
image = torch.nn.functional.one_hot(mask, 4).permute(2, 0, 1).float()
every = list(train.AUGMENT)
train.AUGMENT[:] = [a for a in every if a["op"] in train.GEOMETRIC]
augment = train.make_augment(torch.zeros(1, 4, side, side, dtype=torch.uint8))
checked = moved = ignored = 0
for seed in range(8):
    torch.manual_seed(seed)
    x, m = augment(image.clone(), mask.clone())
    assert m.shape == (side, side), m.shape
    pure = (x > 1 - 1e-4).any(0) & (m != train.IGNORE)
    checked += int(pure.sum())
    moved += int((x.argmax(0)[pure] != m[pure]).sum())
    ignored += int((m == train.IGNORE).sum())
train.AUGMENT[:] = [a for a in every if a["op"] not in train.GEOMETRIC]
assert len(train.AUGMENT) == 2
augment = train.make_augment(torch.zeros(1, 4, side, side, dtype=torch.uint8))
for seed in range(4):
    torch.manual_seed(seed)
    x, m = augment(image.clone(), mask.clone())
    assert torch.equal(m, mask) and not torch.equal(x, image)
print(checked, moved, ignored)
"#;

/// Writes `design` with `augmentation`, exported as PyTorch code training on `spec`, into
/// `dir`; returns the export folder.
fn export_with(
    dir: &Path,
    name: &str,
    mut design: netloom::design::Design,
    augmentation: Vec<netloom::design::Augment>,
    spec: &str,
) -> std::path::PathBuf {
    design.data.augmentation = augmentation;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, netloom::design::to_json(&design)).unwrap();
    let out = dir.join(name);
    netloom_ok(&[
        "export",
        path.to_str().unwrap(),
        "--format",
        "pytorch",
        "--data",
        spec,
        "--out",
        out.to_str().unwrap(),
    ]);
    out
}

fn python_in(dir: &Path, args: &[&str]) -> String {
    let run = std::process::Command::new("python3")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    text
}

#[test]
fn the_exported_train_py_moves_masks_with_images_and_learns_the_shapes() {
    use netloom::design::Augment;
    let dir = tempdir("segmentation-train-py");
    let data = dir.join("shapes");
    shapes(&data, 300, MaskFormat::Palette);
    let spec = format!("masks:{}", data.display());
    let mut design = netloom::design::templates::unet([3, SIDE as u64, SIDE as u64], 3, 8);
    design.training.optimizer = netloom::design::Optimizer::Adam;
    design.training.learning_rate = 0.005;
    design.training.batch_size = 16;
    // Every geometric operation, and two that change values only: in the exported script a
    // one-hot checkerboard's mask stays on its image pixels under the first, and is left
    // alone by the second, as in netloom. (Checked apart: torchvision's ops resample one after
    // another, so a blend of blends brightened could pass for a cell's own pixel.)
    let mut every = every_geometric_op();
    every.extend([
        Augment::Brightness { p: 1.0, delta: 0.2 },
        Augment::Cutout {
            p: 1.0,
            min: 0.1,
            max: 0.2,
        },
    ]);
    let py = export_with(&dir, "every", design.clone(), every, &spec);
    let said = python_in(&py, &["-c", CHECKERBOARD_PY]);
    let counts: Vec<u64> = said
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(counts[1], 0, "{said}: mask pixels left their image pixels");
    assert!(counts[0] > 8 * 64 * 64 / 4 && counts[2] > 0, "{said}");
    // And it trains a U-Net on the masks to netloom's mean IoU.
    let py = export_with(
        &dir,
        "flip",
        design,
        vec![Augment::HorizontalFlip { p: 0.5 }],
        &spec,
    );
    let out = python_in(&py, &["train.py", "--epochs", "20", "--out", "run"]);
    let miou: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("validation mean IoU "))
        .unwrap_or_else(|| panic!("{out}"))
        .trim()
        .parse()
        .unwrap();
    assert!(miou >= 0.9, "train.py's mean IoU {miou}:\n{out}");
    let rows = metrics(&py.join("run"));
    let last = rows.iter().rev().find(|r| r[0] == "epoch").unwrap();
    assert!(
        (last[15].parse::<f64>().unwrap() - miou).abs() < 1e-3,
        "{last:?}"
    );
    assert_eq!(last[16].split(';').count(), 3);
}
