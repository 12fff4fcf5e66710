//! How far a message lies from the in-scope intents, by Mahalanobis distance on the frozen
//! embeddings (Lee et al. 2018; Podolskiy et al. 2021 for intents): one mean per intent and one
//! covariance shared by all, so the distance counts directions the intents vary along as cheap
//! and directions they never vary along as dear. Nearest-example similarity only sees angles;
//! this sees the shape of the whole in-scope cloud, which is what tells a near-miss question
//! from a rephrasing.
//!
//! The covariance is shrunk towards a multiple of the identity (384 dimensions, a few thousand
//! examples: the raw estimate is close to singular) and factored once at training,
//! `Σ = L Lᵀ`. The file keeps `L⁻¹` and the means already multiplied by it, so a message costs
//! one triangular matrix-vector product and one dot product per intent:
//! `d(x) = min_c ‖L⁻¹x − L⁻¹μ_c‖²`.

/// Squared distances are divided by this reference (the training examples' mean distance to
/// their own intent), so that 1 means "as typical as the examples" whatever the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Mahalanobis {
    dim: usize,
    /// `L⁻¹`, lower triangle, row by row (`dim (dim + 1) / 2` values).
    whitening: Vec<f32>,
    /// The in-scope classes, and `L⁻¹μ_c` for each (`[classes.len() * dim]`).
    classes: Vec<u16>,
    means: Vec<f32>,
    /// `‖L⁻¹μ_c‖²`, so a distance is `‖z‖² − 2 z·m_c + ‖m_c‖²`.
    mean_norms: Vec<f32>,
    /// Mean squared distance of the training examples to their own class.
    reference: f32,
}

impl Mahalanobis {
    /// Fits class means and the shared covariance on unit-length `embeddings` of `classes`
    /// (rows of class `skip`, the out-of-scope class, are left out). `shrinkage` in `[0, 1]`
    /// blends the covariance with `trace / dim` times the identity. `None` without at least
    /// two in-scope examples.
    pub fn fit<'a>(
        embeddings: impl Iterator<Item = &'a [f32]>,
        classes: &[usize],
        skip: Option<usize>,
        shrinkage: f32,
    ) -> Option<Self> {
        let rows: Vec<(Vec<f64>, usize)> = embeddings
            .zip(classes)
            .filter(|(_, c)| Some(**c) != skip)
            .map(|(e, &c)| (unit(e).map(f64::from).collect(), c))
            .collect();
        let dim = rows.first()?.0.len();
        if rows.len() < 2 || dim == 0 {
            return None;
        }
        let class_count = rows.iter().map(|(_, c)| c + 1).max().unwrap_or(0);
        let mut sums = vec![vec![0.0f64; dim]; class_count];
        let mut counts = vec![0usize; class_count];
        for (e, c) in &rows {
            counts[*c] += 1;
            sums[*c].iter_mut().zip(e).for_each(|(s, v)| *s += v);
        }
        let present: Vec<usize> = (0..class_count).filter(|&c| counts[c] > 0).collect();
        for &c in &present {
            let n = counts[c] as f64;
            sums[c].iter_mut().for_each(|s| *s /= n);
        }
        let means = sums;
        // Lower triangle of the pooled within-class covariance.
        let mut cov = vec![0.0f64; dim * dim];
        let mut centred = vec![0.0f64; dim];
        for (e, c) in &rows {
            centred.iter_mut().zip(e.iter().zip(&means[*c])).for_each(|(d, (x, m))| *d = x - m);
            for i in 0..dim {
                let ci = centred[i];
                let row = &mut cov[i * dim..i * dim + i + 1];
                row.iter_mut().zip(&centred[..=i]).for_each(|(r, cj)| *r += ci * cj);
            }
        }
        let n = rows.len() as f64;
        cov.iter_mut().for_each(|v| *v /= n);
        let trace: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
        let (keep, ridge) = (1.0 - f64::from(shrinkage), f64::from(shrinkage) * trace / dim as f64);
        for i in 0..dim {
            for j in 0..=i {
                cov[i * dim + j] *= keep;
            }
            // A floor so a degenerate cloud (every example the same) still factors.
            cov[i * dim + i] += ridge.max(1e-9);
        }
        let inverse = invert_lower(&cholesky(&mut cov, dim)?, dim);
        let whitening: Vec<f32> =
            (0..dim).flat_map(|i| inverse[i * dim..=i * dim + i].to_vec()).map(|v| v as f32).collect();
        let mut model = Self {
            dim,
            whitening,
            classes: present.iter().map(|&c| c as u16).collect(),
            means: Vec::with_capacity(present.len() * dim),
            mean_norms: Vec::with_capacity(present.len()),
            reference: 1.0,
        };
        for &c in &present {
            let m: Vec<f32> = means[c].iter().map(|&v| v as f32).collect();
            let z = model.whiten(&m);
            model.mean_norms.push(z.iter().map(|v| v * v).sum());
            model.means.extend(z);
        }
        let own: f64 = rows
            .iter()
            .map(|(e, c)| {
                let z = model.whiten(&e.iter().map(|&v| v as f32).collect::<Vec<_>>());
                let k = present.binary_search(c).expect("every row's class has a mean");
                f64::from(model.squared_distance(&z, k))
            })
            .sum();
        model.reference = ((own / n) as f32).max(f32::MIN_POSITIVE);
        Some(model)
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The smallest squared distance to an in-scope class, divided by the training examples'
    /// mean: about 1 for a typical in-scope message, more the stranger it is.
    pub fn relative_distance(&self, embedding: &[f32]) -> f32 {
        let query: Vec<f32> = unit(embedding).collect();
        let z = self.whiten(&query);
        let nearest = (0..self.classes.len()).map(|k| self.squared_distance(&z, k)).fold(f32::INFINITY, f32::min);
        nearest / self.reference
    }

    /// `L⁻¹ x`.
    fn whiten(&self, x: &[f32]) -> Vec<f32> {
        let mut start = 0;
        (0..self.dim)
            .map(|i| {
                let row = &self.whitening[start..start + i + 1];
                start += i + 1;
                super::neighbours::dot(row, &x[..=i])
            })
            .collect()
    }

    fn squared_distance(&self, z: &[f32], k: usize) -> f32 {
        let m = &self.means[k * self.dim..(k + 1) * self.dim];
        let zz: f32 = super::neighbours::dot(z, z);
        (zz - 2.0 * super::neighbours::dot(z, m) + self.mean_norms[k]).max(0.0)
    }

    /// Bytes: dim, classes, reference, then classes, whitening, means (little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(self.dim as u32).to_le_bytes());
        bytes.extend_from_slice(&(self.classes.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&self.reference.to_le_bytes());
        self.classes.iter().for_each(|c| bytes.extend_from_slice(&c.to_le_bytes()));
        for v in self.whitening.iter().chain(&self.means) {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes
    }

    /// The model in `bytes` (exactly), for a head of `class_count` classes.
    pub fn from_bytes(bytes: &[u8], class_count: usize) -> Result<Self, String> {
        let header = bytes.get(..12).ok_or("the distance section is too short")?;
        let word = |i: usize| u32::from_le_bytes(header[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        let (dim, classes) = (word(0) as usize, word(1) as usize);
        let reference = f32::from_bits(word(2));
        let triangle = dim.checked_mul(dim + 1).map(|v| v / 2);
        let expected = triangle
            .zip(classes.checked_mul(dim))
            .and_then(|(t, m)| t.checked_add(m))
            .and_then(|floats| floats.checked_mul(4))
            .and_then(|b| b.checked_add(12 + 2 * classes));
        if expected != Some(bytes.len()) {
            return Err(format!("the distance section has {} bytes, expected {expected:?}", bytes.len()));
        }
        if dim == 0 || classes == 0 || !(reference.is_finite() && reference > 0.0) {
            return Err(format!("a distance section of {classes} classes of {dim} values, reference {reference}"));
        }
        let (ids, floats) = bytes[12..].split_at(2 * classes);
        let ids: Vec<u16> = ids.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        if ids.iter().any(|&c| usize::from(c) >= class_count) {
            return Err(format!("the distance section names a class beyond the head's {class_count}"));
        }
        let floats: Vec<f32> =
            floats.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        if floats.iter().any(|v| !v.is_finite()) {
            return Err("the distance section holds a value that is not a finite number".into());
        }
        let (whitening, means) = floats.split_at(triangle.unwrap_or(0));
        let mean_norms = means.chunks_exact(dim).map(|m| m.iter().map(|v| v * v).sum()).collect();
        Ok(Self { dim, whitening: whitening.to_vec(), classes: ids, means: means.to_vec(), mean_norms, reference })
    }
}

/// Cholesky factor `L` of a symmetric positive-definite matrix given by its lower triangle
/// (row-major `dim x dim`); `None` if it is not positive definite.
fn cholesky(a: &mut [f64], dim: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0f64; dim * dim];
    for i in 0..dim {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * dim + k] * l[j * dim + k]).sum();
            if i == j {
                let d = a[i * dim + i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i * dim + i] = d.sqrt();
            } else {
                l[i * dim + j] = (a[i * dim + j] - s) / l[j * dim + j];
            }
        }
    }
    Some(l)
}

/// Inverse of a lower-triangular matrix (itself lower triangular), by forward substitution.
fn invert_lower(l: &[f64], dim: usize) -> Vec<f64> {
    let mut inv = vec![0.0f64; dim * dim];
    for j in 0..dim {
        inv[j * dim + j] = 1.0 / l[j * dim + j];
        for i in j + 1..dim {
            let s: f64 = (j..i).map(|k| l[i * dim + k] * inv[k * dim + j]).sum();
            inv[i * dim + j] = -s / l[i * dim + i];
        }
    }
    inv
}

fn unit(v: &[f32]) -> impl Iterator<Item = f32> + '_ {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    v.iter().map(move |x| x * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_and_its_inverse_match_a_hand_computed_case() {
        // [[4, 2], [2, 5]] = L Lᵀ with L = [[2, 0], [1, 2]]; L⁻¹ = [[0.5, 0], [-0.25, 0.5]].
        let mut a = vec![4.0, 0.0, 2.0, 5.0];
        let l = cholesky(&mut a, 2).unwrap();
        assert_eq!(l, vec![2.0, 0.0, 1.0, 2.0]);
        assert_eq!(invert_lower(&l, 2), vec![0.5, 0.0, -0.25, 0.5]);
        assert!(cholesky(&mut [1.0, 0.0, 2.0, 1.0], 2).is_none(), "[[1, 2], [2, 1]] is not positive definite");
    }

    /// Two classes on the unit circle's right half, spread along y only.
    fn fitted(shrinkage: f32) -> Mahalanobis {
        let s = 0.6f32;
        let c = 0.8f32;
        // Class 0 around (1, 0): (c, s) and (c, -s); class 1 around (0, 1): (s, c) and (-s, c).
        let examples = [[c, s], [c, -s], [s, c], [-s, c]];
        Mahalanobis::fit(examples.iter().map(|e| e.as_slice()), &[0, 0, 1, 1], None, shrinkage).unwrap()
    }

    #[test]
    fn distances_match_a_hand_computed_case() {
        // Means (0.8, 0) and (0, 0.8). Residuals (0, ±0.6) and (±0.6, 0): Σ = diag(0.18, 0.18).
        // Every example is then 0.36 / 0.18 = 2 from its mean, so the reference is 2.
        let m = fitted(0.0);
        assert!((m.reference - 2.0).abs() < 1e-4, "{}", m.reference);
        // (1, 0): 0.04 / 0.18 from class 0, relative 0.2222 / 2 = 0.1111.
        assert!((m.relative_distance(&[3.0, 0.0]) - 0.111_11).abs() < 1e-4);
        // (-1, 0): from class 1, (1 + 0.64) / 0.18 = 9.111, relative 4.556.
        assert!((m.relative_distance(&[-1.0, 0.0]) - 4.5556).abs() < 1e-3);
    }

    #[test]
    fn shrinkage_pulls_the_covariance_towards_its_average_variance() {
        // One class around (1, 0), spread along y far more than along x.
        let examples = [[0.98f32, 0.2], [0.98, -0.2], [0.995, 0.1], [0.995, -0.1]];
        let rows = || examples.iter().map(|e| e.as_slice());
        let cost = |shrinkage: f32| {
            let m = Mahalanobis::fit(rows(), &[0; 4], None, shrinkage).unwrap();
            // Equal steps along x and along y away from the same point.
            let origin = m.whiten(&[1.0, 0.0]);
            let step = |p: [f32; 2]| {
                let z = m.whiten(&p);
                z.iter().zip(&origin).map(|(a, b)| (a - b) * (a - b)).sum::<f32>()
            };
            step([1.05, 0.0]) / step([1.0, 0.05])
        };
        // Unshrunk, a step along x costs far more than one along y; fully shrunk, the same.
        assert!(cost(0.0) > 10.0, "{}", cost(0.0));
        assert!((cost(1.0) - 1.0).abs() < 1e-4, "{}", cost(1.0));
        assert!(cost(0.0) > cost(0.5) && cost(0.5) > 1.0);
    }

    #[test]
    fn out_of_scope_rows_do_not_shape_the_model() {
        let s = 0.6f32;
        let c = 0.8f32;
        let examples = [[c, s], [c, -s], [s, c], [-s, c], [-1.0, 0.0]];
        let m = Mahalanobis::fit(examples.iter().map(|e| e.as_slice()), &[0, 0, 1, 1, 2], Some(2), 0.0).unwrap();
        assert_eq!(m, fitted(0.0));
    }

    #[test]
    fn a_round_trip_through_bytes_keeps_the_distances() {
        let m = fitted(0.1);
        let back = Mahalanobis::from_bytes(&m.to_bytes(), 2).unwrap();
        assert_eq!(back, m);
        assert!(Mahalanobis::from_bytes(&m.to_bytes(), 1).is_err(), "class 1 in a head of one class");
        let bytes = m.to_bytes();
        assert!(Mahalanobis::from_bytes(&bytes[..bytes.len() - 1], 2).is_err());
    }
}
