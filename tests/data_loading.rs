//! Datasets load as they should from every source, and bad input gives a clear error naming
//! the file, never a crash.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;
use common::run;

use netloom::data::*;
use netloom::design::Shape;
use run::tempdir;
use std::io::Write;
use std::path::Path;

#[test]
fn the_builtin_subset_is_balanced_fashion_mnist() {
    let ds = fashion_mnist_builtin().unwrap();
    assert_eq!(ds.shape, Shape::image(1, 28, 28));
    assert_eq!(ds.classes, FASHION_MNIST_CLASSES);
    assert_eq!(ds.train.class_counts(10), vec![1000; 10]);
    assert_eq!(ds.val.class_counts(10), vec![200; 10]);
    let Samples::U8(px) = &ds.train.samples else {
        panic!("images are u8")
    };
    assert_eq!(px.len(), 10_000 * 784);
    // Real images: neither blank nor saturated.
    let mean = px.iter().map(|&p| p as f64).sum::<f64>() / px.len() as f64;
    assert!((40.0..120.0).contains(&mean), "{mean}");
}

#[test]
fn a_class_subset_is_a_task_of_its_own() {
    let spec = DataSpec::parse("builtin:fashion-mnist?classes=9,5,7").unwrap();
    let d = spec.load(&FolderOptions::default()).unwrap();
    assert_eq!(d.classes, ["Ankle boot", "Sandal", "Sneaker"]);
    assert_eq!(d.train.len(), 3000, "1,000 training images per class");
    assert_eq!(d.train.class_counts(3), [1000, 1000, 1000]);
    assert!(d.val.labels.iter().all(|&l| l < 3));
    d.check().unwrap();
    // Labels follow the order asked: the first image of class 9 is now class 0.
    let all = DataSpec::parse("builtin:fashion-mnist")
        .unwrap()
        .load(&FolderOptions::default())
        .unwrap();
    let first9 = all.train.labels.iter().position(|&l| l == 9).unwrap();
    let Samples::U8(px) = &all.train.samples else {
        panic!()
    };
    let Samples::U8(sub) = &d.train.samples else {
        panic!()
    };
    let n = d.sample_len();
    let j = d.train.labels.iter().position(|&l| l == 0).unwrap();
    assert_eq!(&px[first9 * n..(first9 + 1) * n], &sub[j * n..(j + 1) * n]);
    // Toy options and classes mix; bad lists are refused.
    let spec = DataSpec::parse("toy:spiral?noise=0.1&classes=0,2").unwrap();
    assert_eq!(
        spec.load(&FolderOptions::default()).unwrap().classes.len(),
        2
    );
    let e = DataSpec::parse("builtin:fashion-mnist?classes=3,x").unwrap_err();
    assert!(e.to_string().contains("not a list of class numbers"), "{e}");
    let e = DataSpec::parse("builtin:fashion-mnist?classes=10")
        .unwrap()
        .load(&FolderOptions::default())
        .unwrap_err();
    assert!(e.to_string().contains("there is no class 10"), "{e}");
}

#[test]
fn debian_fashion_mnist_loads_with_6000_training_images_per_class() {
    let dir = Path::new("/usr/share/datasets/fashion-mnist");
    assert!(
        dir.is_dir(),
        "install Debian's dataset-fashion-mnist (.ci/run does)"
    );
    let ds = DataSpec::parse(dir.to_str().unwrap())
        .unwrap()
        .load(&FolderOptions::default())
        .unwrap();
    assert_eq!(ds.train.class_counts(10), vec![6000; 10]);
    assert_eq!(ds.val.class_counts(10), vec![1000; 10]);
    assert_eq!(ds.classes[9], "Ankle boot");
    // The built-in subset is the first images of the same files.
    let builtin = fashion_mnist_builtin().unwrap();
    assert_eq!(ds.train.image(0, 784), builtin.train.image(0, 784));
    assert!(
        system_datasets(Path::new(SYSTEM_DATASETS))
            .iter()
            .any(|(n, s)| n == "fashion-mnist" && matches!(s, DataSpec::Idx(_)))
    );
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn idx_images(n: u32, h: u32, w: u32) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for d in [n, h, w] {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend((0..n * h * w).map(|i| (i % 251) as u8));
    b
}

fn idx_labels(n: u32) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 1];
    b.extend_from_slice(&n.to_be_bytes());
    b.extend((0..n).map(|i| (i % 10) as u8));
    b
}

fn write_idx_dir(dir: &Path, train_images: Vec<u8>, zip: bool) {
    let files = [
        ("train-images-idx3-ubyte", train_images),
        ("train-labels-idx1-ubyte", idx_labels(20)),
        ("t10k-images-idx3-ubyte", idx_images(10, 4, 5)),
        ("t10k-labels-idx1-ubyte", idx_labels(10)),
    ];
    for (name, bytes) in files {
        if zip {
            std::fs::write(dir.join(format!("{name}.gz")), gz(&bytes)).unwrap();
        } else {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

fn load_err(spec: &str) -> String {
    DataSpec::parse(spec)
        .and_then(|s| s.load(&FolderOptions::default()))
        .unwrap_err()
        .to_string()
}

#[test]
fn idx_files_load_gzipped_or_not() {
    for zip in [false, true] {
        let dir = tempdir("data-idx");
        write_idx_dir(&dir, idx_images(20, 4, 5), zip);
        let ds = load_idx_dir(&dir).unwrap();
        assert_eq!(ds.shape, Shape::image(1, 4, 5));
        assert_eq!((ds.train.len(), ds.val.len()), (20, 10));
        assert_eq!(ds.train.image(1, 20).unwrap()[0], 20);
        assert_eq!(ds.classes.len(), 10);
    }
}

#[test]
fn bad_idx_files_are_named_with_the_fix() {
    let dir = tempdir("data-idx-trunc");
    let mut truncated = idx_images(20, 4, 5);
    truncated.truncate(100);
    write_idx_dir(&dir, truncated, true);
    let e = load_err(&format!("idx:{}", dir.display()));
    assert!(
        e.contains(
            "the file is truncated: its header promises 400 values (20×4×5) but only 84 follow"
        ),
        "{e}"
    );
    assert!(e.contains("train-images-idx3-ubyte.gz"), "{e}");

    let dir = tempdir("data-idx-magic");
    write_idx_dir(&dir, b"\x12\x34\x56\x78garbage".to_vec(), false);
    let e = load_err(&format!("idx:{}", dir.display()));
    assert!(
        e.contains("it starts with 12 34 56 78 instead of the magic number 00 00 08 03"),
        "{e}"
    );

    let dir = tempdir("data-idx-gz");
    write_idx_dir(&dir, idx_images(20, 4, 5), true);
    let path = dir.join("train-images-idx3-ubyte.gz");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&path, bytes).unwrap();
    let e = load_err(&format!("idx:{}", dir.display()));
    assert!(e.contains("the gzip data is damaged"), "{e}");

    let dir = tempdir("data-idx-count");
    write_idx_dir(&dir, idx_images(19, 4, 5), false);
    let e = load_err(&format!("idx:{}", dir.display()));
    assert!(
        e.contains("it has 20 labels but its images file has 19 images"),
        "{e}"
    );

    let dir = tempdir("data-idx-missing");
    std::fs::write(dir.join("train-images-idx3-ubyte"), idx_images(2, 2, 2)).unwrap();
    let e = load_err(dir.to_str().unwrap());
    assert!(e.contains("no train-labels IDX file here"), "{e}");
}

fn cifar_batch(records: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for r in 0..records {
        b.push((r % 10) as u8);
        b.extend(std::iter::repeat_n((r % 256) as u8, 3072));
    }
    b
}

#[test]
fn cifar10_binary_batches_load_and_wrong_lengths_are_refused() {
    let dir = tempdir("data-cifar");
    for i in 1..=5 {
        std::fs::write(dir.join(format!("data_batch_{i}.bin")), cifar_batch(12)).unwrap();
    }
    std::fs::write(dir.join("test_batch.bin"), cifar_batch(7)).unwrap();
    let ds = DataSpec::parse(dir.to_str().unwrap())
        .unwrap()
        .load(&FolderOptions::default())
        .unwrap();
    assert_eq!(ds.shape, Shape::image(3, 32, 32));
    assert_eq!((ds.train.len(), ds.val.len()), (60, 7));
    assert_eq!(ds.classes, CIFAR10_CLASSES);
    // Batches are concatenated in order: sample 13 is data_batch_2's record 1.
    assert_eq!(ds.train.image(5, 3072).unwrap()[0], 5);
    assert_eq!(ds.train.image(13, 3072).unwrap()[0], 1);
    assert_eq!(ds.train.labels[13], 1);

    let mut short = cifar_batch(3);
    short.pop();
    std::fs::write(dir.join("test_batch.bin"), short).unwrap();
    let e = load_err(&format!("cifar10:{}", dir.display()));
    assert!(
        e.contains("it is 9218 bytes, not a whole number of 3073-byte CIFAR-10 records"),
        "{e}"
    );
    assert!(e.contains("test_batch.bin"), "{e}");
}

fn png(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
        .save(path)
        .unwrap();
}

#[test]
fn image_folders_load_convert_split_and_report_bad_files() {
    let dir = tempdir("data-folder");
    for (class, colour) in [("cats", [200, 10, 10]), ("dogs", [10, 10, 200])] {
        std::fs::create_dir(dir.join(class)).unwrap();
        for i in 0..10 {
            png(
                &dir.join(class).join(format!("{i}.png")),
                16 + i,
                12,
                colour,
            );
        }
    }
    image::GrayImage::from_pixel(8, 8, image::Luma([77]))
        .save(dir.join("dogs/gray.bmp"))
        .unwrap();
    image::RgbImage::from_pixel(20, 10, image::Rgb([10, 10, 200]))
        .save(dir.join("dogs/photo.jpg"))
        .unwrap();
    std::fs::write(dir.join("cats/broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();

    let calls = std::sync::atomic::AtomicUsize::new(0);
    let options = FolderOptions {
        target: Some((3, 8, 8)),
        fit: Fit::CenterCrop,
        val_fraction: 0.25,
        seed: 5,
    };
    let ds = load_folder(&dir, &options, &|done, total| {
        assert!(done <= total);
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert!(calls.into_inner() > 0);
    assert_eq!(ds.classes, ["cats", "dogs"]);
    assert_eq!(ds.shape, Shape::image(3, 8, 8));
    assert_eq!(ds.train.len() + ds.val.len(), 22);
    assert_eq!(ds.skipped.len(), 1);
    assert!(
        ds.skipped[0].path.ends_with("cats/broken.png"),
        "{:?}",
        ds.skipped
    );
    assert!(
        ds.skipped[0].reason.contains("cannot decode"),
        "{:?}",
        ds.skipped
    );
    // Every label is right: cats are red, dogs blue or gray. Channel-major: a red cat is 200 in
    // the red plane, 10 in the blue one.
    for split in [&ds.train, &ds.val] {
        for (i, &label) in split.labels.iter().enumerate() {
            let img = split.image(i, 192).unwrap();
            let (red, blue) = (img[0], img[128]);
            assert_eq!(
                label == 0,
                red > blue,
                "sample {i}: label {label}, red {red}, blue {blue}"
            );
            if label == 0 {
                assert_eq!((red, blue), (200, 10));
            }
        }
    }
    // The seeded split is reproducible and per class.
    let again = load_folder(&dir, &options, &|_, _| {}).unwrap();
    assert_eq!(again.val.labels, ds.val.labels);
    assert_eq!(ds.val.class_counts(2), vec![3, 3]);

    // The design's input decides the conversion; vector inputs leave images as they are.
    let from_design = FolderOptions::for_input(&Shape::image(3, 8, 8), Fit::CenterCrop);
    assert_eq!(
        (from_design.target, from_design.fit),
        (Some((3, 8, 8)), Fit::CenterCrop)
    );
    assert_eq!(
        FolderOptions::for_input(&Shape::vector(2), Fit::Resize).target,
        None
    );

    let bad = FolderOptions {
        target: Some((2, 8, 8)),
        ..options
    };
    let e = load_folder(&dir, &bad, &|_, _| {}).unwrap_err().to_string();
    assert!(e.starts_with("images can't be converted to 2×8×8"), "{e}");

    // Grayscale conversion.
    let gray = load_folder(
        &dir,
        &FolderOptions {
            target: Some((1, 4, 4)),
            ..options
        },
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(gray.shape, Shape::image(1, 4, 4));
}

#[test]
fn image_folder_mistakes_get_clear_errors() {
    let dir = tempdir("data-folder-empty");
    std::fs::write(dir.join("loose.png"), b"x").unwrap();
    let e = load_folder(&dir, &FolderOptions::default(), &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("no class subfolders here"), "{e}");

    std::fs::create_dir(dir.join("cats")).unwrap();
    std::fs::create_dir(dir.join("dogs")).unwrap();
    png(&dir.join("cats/a.png"), 4, 4, [1, 2, 3]);
    let e = load_folder(&dir, &FolderOptions::default(), &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("class \"dogs\" has no images"), "{e}");
    assert!(e.contains("dogs"), "{e}");

    png(&dir.join("dogs/a.png"), 4, 4, [1, 2, 3]);
    png(&dir.join("dogs/b.png"), 5, 4, [1, 2, 3]);
    png(&dir.join("cats/b.png"), 4, 4, [1, 2, 3]);
    let e = load_folder(&dir, &FolderOptions::default(), &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("mixed sizes:"), "{e}");
    assert!(e.contains("b.png has size 5×4 differs from 4×4"), "{e}");

    // train/ and val/ folders are used as they are.
    let tv = tempdir("data-folder-tv");
    for split in ["train", "val"] {
        for class in ["a", "b"] {
            std::fs::create_dir_all(tv.join(split).join(class)).unwrap();
            png(&tv.join(split).join(class).join("x.png"), 4, 4, [9, 9, 9]);
        }
    }
    png(&tv.join("train/a/y.png"), 4, 4, [9, 9, 9]);
    let ds = DataSpec::parse(tv.to_str().unwrap())
        .unwrap()
        .load(&FolderOptions::default())
        .unwrap();
    assert_eq!((ds.train.len(), ds.val.len()), (3, 2));
}

#[test]
fn toy_sets_are_balanced_reproducible_and_shaped_as_named() {
    for toy in Toy::ALL {
        let opts = ToyOptions {
            noise: 0.0,
            samples: 300,
            seed: 3,
        };
        let ds = toy_dataset(toy, opts).unwrap();
        assert_eq!(ds.shape, Shape::vector(2));
        let k = toy.classes();
        assert_eq!(ds.train.class_counts(k), vec![300 / k; k]);
        assert_eq!(ds, toy_dataset(toy, opts).unwrap());
        assert_ne!(
            ds.train,
            toy_dataset(toy, ToyOptions { seed: 4, ..opts })
                .unwrap()
                .train
        );
        let Samples::F32(v) = &ds.train.samples else {
            panic!()
        };
        for (p, &label) in v.chunks_exact(2).zip(&ds.train.labels) {
            let (x, y) = (p[0] as f64, p[1] as f64);
            match toy {
                Toy::Circles => {
                    let r = (x * x + y * y).sqrt();
                    assert!((r - if label == 0 { 1.0 } else { 0.5 }).abs() < 1e-5);
                }
                Toy::Xor => assert_eq!(x * y > 0.0, label == 0),
                Toy::Spiral => assert!(x * x + y * y <= 1.0 + 1e-6),
                Toy::Moons => assert!(x.abs() <= 1.5 && y.abs() <= 1.25),
            }
        }
    }
}

#[test]
fn data_specs_parse_and_bad_ones_say_what_is_known() {
    assert_eq!(
        DataSpec::parse("builtin:fashion-mnist").unwrap(),
        DataSpec::BuiltinFashionMnist
    );
    let DataSpec::Toy(Toy::Moons, o) =
        DataSpec::parse("toy:moons?noise=0.2&samples=100&seed=9").unwrap()
    else {
        panic!()
    };
    assert_eq!((o.noise, o.samples, o.seed), (0.2, 100, 9));
    assert!(matches!(
        DataSpec::parse("idx:/x").unwrap(),
        DataSpec::Idx(_)
    ));
    assert!(matches!(
        DataSpec::parse("cifar10:/x").unwrap(),
        DataSpec::Cifar10(_)
    ));
    assert!(matches!(
        DataSpec::parse("folder:/x").unwrap(),
        DataSpec::Folder(_)
    ));
    let e = DataSpec::parse("toy:helix").unwrap_err().to_string();
    assert_eq!(
        e,
        "there is no toy set \"helix\": choose spiral, moons, circles or xor"
    );
    let e = DataSpec::parse("mnist:/x").unwrap_err().to_string();
    assert!(e.starts_with("unknown data source \"mnist:\""), "{e}");
    let e = DataSpec::parse("toy:xor?noise=lots")
        .unwrap_err()
        .to_string();
    assert!(e.contains("noise=\"lots\" is not a valid number"), "{e}");
    let e = DataSpec::parse("/definitely/not/here")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "no such folder (/definitely/not/here)");
}
