//! A scalar field as an image with contour lines: the loss surfaces behind the optimizer paths
//! and the class map behind a decision boundary are both drawn this way. Banding the colour
//! and darkening where the band changes gives contours without tracing them.

/// Contour bands across the value range.
const BANDS: f64 = 16.0;

/// A perceptually even dark-to-light ramp (viridis, sampled), for surfaces.
const RAMP: [[u8; 3]; 6] = [
    [0x44, 0x01, 0x54],
    [0x41, 0x44, 0x87],
    [0x2A, 0x78, 0x8E],
    [0x22, 0xA8, 0x84],
    [0x7A, 0xD1, 0x51],
    [0xFD, 0xE7, 0x25],
];

fn ramp(t: f64) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64;
    let i = (t.floor() as usize).min(RAMP.len() - 2);
    let f = t - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |k: usize| (f64::from(a[k]) + (f64::from(b[k]) - f64::from(a[k])) * f).round() as u8;
    [mix(0), mix(1), mix(2)]
}

/// RGBA pixels (`w × h`, top row first) of `f` over `[x_min, x_max] × [y_min, y_max]`, on a
/// log scale above the grid's minimum so that deep, narrow valleys still show their floor.
pub fn surface_pixels(
    w: usize,
    h: usize,
    domain: [[f64; 2]; 2],
    f: impl Fn(f64, f64) -> f64,
) -> Vec<u8> {
    let [[x0, x1], [y0, y1]] = domain;
    let mut values = Vec::with_capacity(w * h);
    for j in 0..h {
        // Row 0 is the top of the image: the largest y.
        let y = y1 - (y1 - y0) * (j as f64 + 0.5) / h as f64;
        for i in 0..w {
            let x = x0 + (x1 - x0) * (i as f64 + 0.5) / w as f64;
            values.push(f(x, y));
        }
    }
    let lo = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let scaled: Vec<f64> = values
        .iter()
        .map(|v| (1.0 + (v - lo).max(0.0)).ln())
        .collect();
    let hi = scaled
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1e-12);
    let band: Vec<i32> = scaled
        .iter()
        .map(|s| ((s / hi) * BANDS).floor() as i32)
        .collect();
    let mut out = Vec::with_capacity(w * h * 4);
    for j in 0..h {
        for i in 0..w {
            let k = j * w + i;
            let b = band[k];
            let edge = (i + 1 < w && band[k + 1] != b) || (j + 1 < h && band[k + w] != b);
            let [r, g, bl] = ramp(f64::from(b) / BANDS);
            let dim = if edge { 0.55 } else { 0.85 };
            let d = |c: u8| (f64::from(c) * dim) as u8;
            out.extend_from_slice(&[d(r), d(g), d(bl), 255]);
        }
    }
    out
}

/// An egui texture of RGBA pixels, smoothed when shown larger than it is.
pub fn texture(
    ctx: &egui::Context,
    name: &str,
    w: usize,
    h: usize,
    rgba: &[u8],
) -> egui::TextureHandle {
    ctx.load_texture(
        name,
        egui::ColorImage::from_rgba_unmultiplied([w, h], rgba),
        egui::TextureOptions::LINEAR,
    )
}

/// Blue for negative, orange for positive, dark at zero, scaled by `m` (activations, weights).
pub fn diverging(v: f32, m: f32) -> egui::Color32 {
    let t = (v / m.max(1e-9)).clamp(-1.0, 1.0);
    if t >= 0.0 {
        egui::Color32::from_rgb((40.0 + 202.0 * t) as u8, (40.0 + 102.0 * t) as u8, 40)
    } else {
        egui::Color32::from_rgb(40, (40.0 - 120.0 * t) as u8, (40.0 - 175.0 * t) as u8)
    }
}
