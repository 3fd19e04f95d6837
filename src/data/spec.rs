//! Data specs, the CLI's way to name a dataset: `builtin:fashion-mnist`, `toy:spiral`,
//! `idx:PATH`, `cifar10:PATH`, `folder:PATH`, `csv:PATH?target=…`, or a bare path that is
//! auto-detected.

use super::folder::{FolderOptions, is_class_folder, load_folder};
use super::toy::{Toy, ToyOptions, toy_dataset};
use super::{DataError, Dataset, cifar, fashion_mnist_builtin, idx};
use crate::design::Shape;
use std::path::{Path, PathBuf};

/// Where datasets installed by the system live (e.g. Debian's `dataset-fashion-mnist`).
pub const SYSTEM_DATASETS: &str = "/usr/share/datasets";

/// The largest Input (height × width) the whole built-in set is converted to by default:
/// 64×64, about 150 MB for its 12,000 images in colour.
const SMALL_INPUT: u64 = 64 * 64;
/// How many of its training images the built-in set keeps by default for a larger Input.
const LARGE_INPUT_LIMIT: u32 = 1000;
/// The largest height or width the built-in set is converted to by default: 256, so the
/// first 1,000 images in colour take at most 230 MB.
const MAX_SIDE: u64 = 256;

/// A named source of data.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    /// The Fashion-MNIST subset compiled into netloom.
    BuiltinFashionMnist,
    /// A generated 2-d toy set.
    Toy(Toy, ToyOptions),
    /// An IDX folder (MNIST, Fashion-MNIST, KMNIST).
    Idx(PathBuf),
    /// CIFAR-10's binary version.
    Cifar10(PathBuf),
    /// A folder of images with one subfolder per class.
    Folder(PathBuf),
    /// A table: CSV, TSV, or either gzipped (`csv:PATH?target=…`).
    Table(PathBuf, super::table::TableOptions),
    /// `masks:DIR`: images with a segmentation mask each.
    Masks(PathBuf, super::masks::MaskOptions),
    /// Some classes of another source, relabelled 0, 1, … in the order given
    /// (`?classes=5,7,9` after any spec).
    Classes(Box<DataSpec>, Vec<u32>),
    /// Another source's images converted (`?channels=3&size=32x32` after any spec): always the
    /// outermost, so a spec reads back to the same value.
    Converted(Box<DataSpec>, super::Convert),
}

impl DataSpec {
    /// Parses a spec. Toy sets take options after `?`: `toy:moons?noise=0.2&samples=2000&seed=3`.
    ///
    /// ```
    /// use netloom::data::DataSpec;
    /// let spec = DataSpec::parse("builtin:fashion-mnist?channels=3&size=32x32").unwrap();
    /// assert_eq!(*spec.unconverted(), DataSpec::BuiltinFashionMnist);
    /// // A spec reads back to the same text.
    /// assert_eq!(spec.to_spec(), "builtin:fashion-mnist?channels=3&size=32x32");
    /// // A bad one says what it expected.
    /// assert!(DataSpec::parse("nonsense:x").is_err());
    /// ```
    pub fn parse(spec: &str) -> Result<DataSpec, DataError> {
        if let Some((base, convert)) = take_convert(spec)? {
            return Ok(DataSpec::parse(&base)?.converted(convert));
        }
        if let Some((base, classes)) = take_classes(spec)? {
            return Ok(DataSpec::Classes(
                Box::new(DataSpec::parse(&base)?),
                classes,
            ));
        }
        let known = "use builtin:fashion-mnist, toy:spiral|moons|circles|xor, idx:PATH, cifar10:PATH, folder:PATH, csv:PATH, masks:DIR or a path";
        if let Some((scheme, rest)) = spec.split_once(':')
            && !scheme.contains('/')
            && scheme.len() > 1
        {
            return match scheme {
                "builtin" if rest == "fashion-mnist" => Ok(DataSpec::BuiltinFashionMnist),
                "builtin" => Err(DataError::Spec(format!(
                    "there is no built-in dataset \"{rest}\": the built-in one is builtin:fashion-mnist"
                ))),
                "toy" => parse_toy(rest),
                "idx" => Ok(DataSpec::Idx(PathBuf::from(rest))),
                "cifar10" => Ok(DataSpec::Cifar10(PathBuf::from(rest))),
                "folder" => Ok(DataSpec::Folder(PathBuf::from(rest))),
                "csv" | "tsv" => {
                    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                    let mut options = super::table::TableOptions::parse(query)?;
                    if scheme == "tsv" && options.sep.is_none() {
                        options.sep = Some(b'\t');
                    }
                    Ok(DataSpec::Table(PathBuf::from(path), options))
                }
                "masks" => {
                    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                    let options = super::masks::MaskOptions::parse(query)?;
                    Ok(DataSpec::Masks(PathBuf::from(path), options))
                }
                _ => Err(DataError::Spec(format!(
                    "unknown data source \"{scheme}:\" in \"{spec}\": {known}"
                ))),
            };
        }
        detect(Path::new(spec))
    }

    /// The data a design trains on when none is named: the built-in Fashion-MNIST for image
    /// inputs, converted to the Input's channels and size (a 3×32×32 network trains on it as
    /// shipped), the spiral for 2-feature inputs. Anything else has no sensible default.
    /// Past 64×64 only its first 1,000 training images are converted: all 12,000 at 224×224
    /// would take 1.8 GB, the first 1,000 150 MB, and a template still trains as it opens.
    pub fn default_for(input: Option<Shape>) -> Result<DataSpec, DataError> {
        match (
            input.and_then(|s| s.as_image()),
            input.and_then(|s| s.as_vector()),
        ) {
            (Some((c, h, w)), _) => {
                // Only to sizes a person means (a mutated or mistyped Input of 65,536 rows
                // gets the data as it is, and the mismatch said, not gigabytes of pixels).
                let convertible = (c == 1 || c == 3) && h <= MAX_SIDE && w <= MAX_SIDE;
                let convert = super::Convert {
                    channels: (c != 1).then_some(c as u32),
                    size: ((h, w) != (28, 28)).then_some((h as u32, w as u32)),
                    limit: (h * w > SMALL_INPUT).then_some(LARGE_INPUT_LIMIT),
                };
                Ok(if convertible {
                    DataSpec::BuiltinFashionMnist.converted(convert)
                } else {
                    DataSpec::BuiltinFashionMnist
                })
            }
            (None, Some(2)) => Ok(DataSpec::Toy(Toy::Spiral, ToyOptions::default())),
            _ => Err(DataError::Spec(
                "this design's input is neither an image nor 2 features, so there is no default data: pass --data (e.g. folder:PATH or cifar10:PATH)".to_owned(),
            )),
        }
    }

    /// The spec with its images converted as `convert` says (none: as they are), the
    /// conversion outermost.
    pub fn converted(self, convert: super::Convert) -> DataSpec {
        let base = self.unconverted().clone();
        if convert.is_none() {
            base
        } else {
            DataSpec::Converted(Box::new(base), convert)
        }
    }

    /// The source before any conversion.
    pub fn unconverted(&self) -> &DataSpec {
        match self {
            DataSpec::Converted(inner, _) => inner,
            other => other,
        }
    }

    /// The conversion asked for (none: the images as they are).
    pub fn conversion(&self) -> super::Convert {
        match self {
            DataSpec::Converted(_, c) => *c,
            _ => super::Convert::default(),
        }
    }

    /// The data `design` trains on when none is named: the one its file records
    /// (`data.source`), else the default for its Input. The app and the CLI both ask this.
    pub fn for_design(design: &crate::design::Design) -> Result<DataSpec, DataError> {
        match &design.data.source {
            Some(text) => DataSpec::parse(text),
            None => DataSpec::default_for(design.input_shape()),
        }
    }

    /// A short label for people, e.g. "toy: spiral".
    pub fn label(&self) -> String {
        match self {
            DataSpec::BuiltinFashionMnist => "Fashion-MNIST (built-in)".to_owned(),
            DataSpec::Toy(t, _) => format!("toy: {}", t.name()),
            DataSpec::Idx(p) => format!("IDX: {}", p.display()),
            DataSpec::Cifar10(p) => format!("CIFAR-10: {}", p.display()),
            DataSpec::Folder(p) => format!("folder: {}", p.display()),
            DataSpec::Table(p, _) => format!("table: {}", p.display()),
            DataSpec::Masks(p, _) => format!("masks: {}", p.display()),
            DataSpec::Classes(inner, keep) => format!("{} (classes {keep:?})", inner.label()),
            DataSpec::Converted(inner, _) => inner.label(),
        }
    }

    /// The spec as text that [`DataSpec::parse`] reads back to this spec: what a run folder
    /// records, and what the resume command and train.py are given.
    pub fn to_spec(&self) -> String {
        match self {
            DataSpec::BuiltinFashionMnist => "builtin:fashion-mnist".to_owned(),
            DataSpec::Toy(t, o) => {
                let d = ToyOptions::default();
                let mut opts = Vec::new();
                if o.noise != d.noise {
                    opts.push(format!("noise={}", o.noise));
                }
                if o.samples != d.samples {
                    opts.push(format!("samples={}", o.samples));
                }
                if o.seed != d.seed {
                    opts.push(format!("seed={}", o.seed));
                }
                if opts.is_empty() {
                    format!("toy:{}", t.name())
                } else {
                    format!("toy:{}?{}", t.name(), opts.join("&"))
                }
            }
            DataSpec::Idx(p) => format!("idx:{}", p.display()),
            DataSpec::Cifar10(p) => format!("cifar10:{}", p.display()),
            DataSpec::Folder(p) => format!("folder:{}", p.display()),
            DataSpec::Table(p, o) => {
                let q = o.to_query();
                if q.is_empty() {
                    format!("csv:{}", p.display())
                } else {
                    format!("csv:{}?{q}", p.display())
                }
            }
            DataSpec::Masks(p, o) => {
                let q = o.to_query();
                if q.is_empty() {
                    format!("masks:{}", p.display())
                } else {
                    format!("masks:{}?{q}", p.display())
                }
            }
            DataSpec::Classes(inner, keep) => {
                let inner = inner.to_spec();
                let list: Vec<String> = keep.iter().map(u32::to_string).collect();
                let sep = if inner.contains('?') { '&' } else { '?' };
                format!("{inner}{sep}classes={}", list.join(","))
            }
            DataSpec::Converted(inner, convert) => {
                let inner = inner.to_spec();
                let sep = if inner.contains('?') { '&' } else { '?' };
                format!("{inner}{sep}{}", convert.to_query())
            }
        }
    }

    /// The spec with its path made absolute (and its links resolved, where the path exists),
    /// so that it names the same data from any working folder.
    pub fn resolved(&self) -> DataSpec {
        let abs = |p: &PathBuf| {
            std::fs::canonicalize(p)
                .unwrap_or_else(|_| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        };
        match self {
            DataSpec::Idx(p) => DataSpec::Idx(abs(p)),
            DataSpec::Cifar10(p) => DataSpec::Cifar10(abs(p)),
            DataSpec::Folder(p) => DataSpec::Folder(abs(p)),
            DataSpec::Table(p, o) => DataSpec::Table(abs(p), o.clone()),
            DataSpec::Masks(p, o) => DataSpec::Masks(abs(p), *o),
            DataSpec::Classes(inner, keep) => {
                DataSpec::Classes(Box::new(inner.resolved()), keep.clone())
            }
            DataSpec::Converted(inner, c) => DataSpec::Converted(Box::new(inner.resolved()), *c),
            other => other.clone(),
        }
    }

    /// The spec with each path it names replaced by `f(path)` (made absolute against a design's
    /// folder when read, relative to it when written).
    pub fn map_paths(&self, f: &dyn Fn(&Path) -> PathBuf) -> DataSpec {
        match self {
            DataSpec::Idx(p) => DataSpec::Idx(f(p)),
            DataSpec::Cifar10(p) => DataSpec::Cifar10(f(p)),
            DataSpec::Folder(p) => DataSpec::Folder(f(p)),
            DataSpec::Table(p, o) => DataSpec::Table(f(p), o.clone()),
            DataSpec::Masks(p, o) => DataSpec::Masks(f(p), *o),
            DataSpec::Classes(inner, keep) => {
                DataSpec::Classes(Box::new(inner.map_paths(f)), keep.clone())
            }
            DataSpec::Converted(inner, c) => DataSpec::Converted(Box::new(inner.map_paths(f)), *c),
            other => other.clone(),
        }
    }

    /// The folder the data is read from, if it comes from disk.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DataSpec::Idx(p)
            | DataSpec::Cifar10(p)
            | DataSpec::Folder(p)
            | DataSpec::Table(p, _)
            | DataSpec::Masks(p, _) => Some(p),
            DataSpec::Classes(inner, _) | DataSpec::Converted(inner, _) => inner.path(),
            DataSpec::BuiltinFashionMnist | DataSpec::Toy(..) => None,
        }
    }

    /// Loads the data for a design whose Input is `input`: image folders are resized to it.
    pub fn load_for(&self, input: Option<Shape>) -> Result<Dataset, DataError> {
        let folder = input.map_or_else(FolderOptions::default, |s| {
            FolderOptions::for_input(&s, super::Fit::Resize)
        });
        self.load(&folder)
    }

    /// Loads the data. `folder` says how image folders are converted.
    pub fn load(&self, folder: &FolderOptions) -> Result<Dataset, DataError> {
        match self {
            DataSpec::BuiltinFashionMnist => fashion_mnist_builtin(),
            DataSpec::Toy(toy, options) => toy_dataset(*toy, *options),
            DataSpec::Idx(dir) => idx::load_idx_dir(dir),
            DataSpec::Cifar10(dir) => cifar::load_cifar10(dir),
            DataSpec::Folder(dir) => load_folder(dir, folder, &|_, _| {}),
            DataSpec::Table(path, options) => super::table::load_table(path, options),
            DataSpec::Masks(dir, options) => super::masks::load_masks(dir, *options),
            DataSpec::Classes(inner, keep) => inner.load(folder)?.only_classes(keep),
            DataSpec::Converted(inner, c) => super::convert(inner.load(folder)?, *c),
        }
    }
}

/// Splits `channels=…` and `size=…` off a spec's query: (the spec without them, the
/// conversion), or None when it has neither.
fn take_convert(spec: &str) -> Result<Option<(String, super::Convert)>, DataError> {
    let Some((base, query)) = spec.rsplit_once('?') else {
        return Ok(None);
    };
    let mut convert = super::Convert::default();
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !convert.read(key, value)? {
            rest.push(pair);
        }
    }
    if convert.is_none() {
        return Ok(None);
    }
    let base = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok(Some((base, convert)))
}

/// Splits `classes=…` off a spec's query: (the spec without it, the class numbers).
fn take_classes(spec: &str) -> Result<Option<(String, Vec<u32>)>, DataError> {
    let Some((base, query)) = spec.rsplit_once('?') else {
        return Ok(None);
    };
    let mut classes = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("classes", list)) => {
                let parsed: Result<Vec<u32>, _> =
                    list.split(',').map(|c| c.trim().parse::<u32>()).collect();
                classes = Some(parsed.map_err(|_| {
                    DataError::Spec(format!(
                        "classes={list} is not a list of class numbers, e.g. classes=5,7,8,9"
                    ))
                })?);
            }
            _ => rest.push(pair),
        }
    }
    Ok(classes.map(|c| {
        let base = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        (base, c)
    }))
}

fn parse_toy(rest: &str) -> Result<DataSpec, DataError> {
    let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
    let toy = Toy::from_name(name).ok_or_else(|| {
        DataError::Spec(format!(
            "there is no toy set \"{name}\": choose spiral, moons, circles or xor"
        ))
    })?;
    let mut options = ToyOptions::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let bad = || DataError::Spec(format!("toy option {key}={value:?} is not a valid number"));
        match key {
            "noise" => options.noise = value.parse().map_err(|_| bad())?,
            "samples" => options.samples = value.parse().map_err(|_| bad())?,
            "seed" => options.seed = value.parse().map_err(|_| bad())?,
            _ => {
                return Err(DataError::Spec(format!(
                    "unknown toy option \"{key}\": use noise, samples or seed"
                )));
            }
        }
    }
    Ok(DataSpec::Toy(toy, options))
}

/// Whether a file's name says it is a table: `.csv`, `.tsv`, gzipped or not.
fn is_table_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".csv") || name.ends_with(".tsv")
}

/// Works out what a bare path holds.
fn detect(path: &Path) -> Result<DataSpec, DataError> {
    if path.is_file() && is_table_file(path) {
        return Ok(DataSpec::Table(
            path.to_path_buf(),
            super::table::TableOptions::default(),
        ));
    }
    if !path.is_dir() {
        let problem = if path.exists() {
            "a dataset is a folder, or a table (.csv, .tsv, gzipped or not): pick the folder that holds the data files"
        } else {
            "no such folder"
        };
        return Err(DataError::invalid(path, problem));
    }
    if idx::is_idx_dir(path) {
        Ok(DataSpec::Idx(path.to_path_buf()))
    } else if cifar::is_cifar_dir(path) {
        Ok(DataSpec::Cifar10(path.to_path_buf()))
    } else if is_class_folder(path) {
        Ok(DataSpec::Folder(path.to_path_buf()))
    } else {
        Err(DataError::invalid(
            path,
            "no dataset recognised here: expected IDX files (train-images-idx3-ubyte…), CIFAR-10 batches (data_batch_1.bin…) or one subfolder of images per class",
        ))
    }
}

/// The datasets installed under /usr/share/datasets (or `root`), as `(name, spec)` pairs.
pub fn system_datasets(root: &Path) -> Vec<(String, DataSpec)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<(String, DataSpec)> = entries
        .flatten()
        .filter_map(|e| {
            let spec = detect(&e.path()).ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), spec))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}
