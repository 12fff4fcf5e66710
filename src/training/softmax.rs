//! Softmax regression over [embedding | lexical features], fitted with mini-batch Adam.
//! The lexical block is sparse, so its weights and Adam moments are only touched where a
//! batch has features (lazy Adam).

use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::classifier::features::SparseVector;
use crate::util::softmax_in_place;

/// Hyper-parameters of the head.
#[derive(Debug, Clone, Copy)]
pub struct HeadConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
    /// L2 penalty on the embedding weights.
    pub l2_dense: f32,
    /// L2 penalty on the lexical weights.
    pub l2_lexical: f32,
    /// Weight of out-of-scope examples in the loss, relative to the others.
    pub oos_weight: f32,
    pub seed: u64,
}

impl Default for HeadConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 32,
            learning_rate: 0.01,
            l2_dense: 1e-5,
            l2_lexical: 1e-5,
            oos_weight: 1.0,
            seed: 7,
        }
    }
}

/// The inputs of one example.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub dense: &'a [f32],
    pub sparse: &'a SparseVector,
}

/// Fitted weights; `w_*` are row-major `[input, class]`, as the ONNX MatMul expects.
#[derive(Debug, Clone)]
pub struct SoftmaxHead {
    pub classes: usize,
    pub dense_dim: usize,
    pub sparse_dim: usize,
    pub w_dense: Vec<f32>,
    pub w_sparse: Vec<f32>,
    pub bias: Vec<f32>,
}

impl SoftmaxHead {
    fn zeros(classes: usize, dense_dim: usize, sparse_dim: usize) -> Self {
        Self {
            classes,
            dense_dim,
            sparse_dim,
            w_dense: vec![0.0; dense_dim * classes],
            w_sparse: vec![0.0; sparse_dim * classes],
            bias: vec![0.0; classes],
        }
    }

    fn logits_into(&self, input: Input<'_>, z: &mut [f32]) {
        let c = self.classes;
        z.copy_from_slice(&self.bias);
        for (j, &x) in input.dense.iter().enumerate() {
            axpy(x, &self.w_dense[j * c..(j + 1) * c], z);
        }
        for &(k, x) in input.sparse {
            let k = k as usize;
            axpy(x, &self.w_sparse[k * c..(k + 1) * c], z);
        }
    }

    /// Class probabilities for one input.
    pub fn predict(&self, input: Input<'_>) -> Vec<f32> {
        let mut z = vec![0.0; self.classes];
        self.logits_into(input, &mut z);
        softmax_in_place(&mut z);
        z
    }
}

#[inline]
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Adam state for one block of parameters.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    fn new(n: usize) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// Updates `w[range]` with gradient `g` (same length as the range).
    fn step(&mut self, w: &mut [f32], g: &[f32], offset: usize, lr: f32, t: i32) {
        let c1 = 1.0 - Self::B1.powi(t);
        let c2 = 1.0 - Self::B2.powi(t);
        for (i, &gi) in g.iter().enumerate() {
            let p = offset + i;
            self.m[p] = Self::B1 * self.m[p] + (1.0 - Self::B1) * gi;
            self.v[p] = Self::B2 * self.v[p] + (1.0 - Self::B2) * gi * gi;
            w[p] -= lr * (self.m[p] / c1) / ((self.v[p] / c2).sqrt() + Self::EPS);
        }
    }
}

/// Fits the head. `oos` is the out-of-scope class, if any (weighted by `config.oos_weight`).
/// `on_epoch` is called after each epoch (for progress bars).
pub fn fit(
    inputs: &[Input<'_>],
    labels: &[usize],
    classes: usize,
    oos: Option<usize>,
    sparse_dim: usize,
    config: &HeadConfig,
    mut on_epoch: impl FnMut(),
) -> SoftmaxHead {
    assert_eq!(inputs.len(), labels.len());
    let dense_dim = inputs.first().map_or(0, |i| i.dense.len());
    let c = classes;
    let mut head = SoftmaxHead::zeros(classes, dense_dim, sparse_dim);
    let mut adam_dense = Adam::new(head.w_dense.len());
    let mut adam_sparse = Adam::new(head.w_sparse.len());
    let mut adam_bias = Adam::new(c);
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
    let batch_size = config.batch_size.max(1);
    let total_steps = (config.epochs * inputs.len().div_ceil(batch_size)).max(1) as f32;
    let mut step = 0i32;
    let mut g_dense = vec![0.0f32; head.w_dense.len()];
    let mut g_sparse = vec![0.0f32; head.w_sparse.len()];
    let mut g_bias = vec![0.0f32; c];
    let mut touched: Vec<u32> = Vec::new();
    let mut is_touched = vec![false; sparse_dim];
    let mut z = vec![0.0f32; c];
    for _ in 0..config.epochs {
        order.shuffle(&mut rng);
        for batch in order.chunks(batch_size) {
            step += 1;
            let batch_scale = 1.0 / batch.len() as f32;
            g_dense.iter_mut().for_each(|g| *g = 0.0);
            g_bias.iter_mut().for_each(|g| *g = 0.0);
            for &i in batch {
                let input = inputs[i];
                head.logits_into(input, &mut z);
                softmax_in_place(&mut z);
                z[labels[i]] -= 1.0;
                let scale = if Some(labels[i]) == oos { batch_scale * config.oos_weight } else { batch_scale };
                z.iter_mut().for_each(|d| *d *= scale);
                axpy(1.0, &z, &mut g_bias);
                for (j, &x) in input.dense.iter().enumerate() {
                    axpy(x, &z, &mut g_dense[j * c..(j + 1) * c]);
                }
                for &(k, x) in input.sparse {
                    let ku = k as usize;
                    if !is_touched[ku] {
                        is_touched[ku] = true;
                        touched.push(k);
                    }
                    axpy(x, &z, &mut g_sparse[ku * c..(ku + 1) * c]);
                }
            }
            // Linear decay to a tenth of the rate over the run.
            let lr = config.learning_rate * (1.0 - 0.9 * step as f32 / total_steps);
            axpy(config.l2_dense, &head.w_dense, &mut g_dense);
            adam_dense.step(&mut head.w_dense, &g_dense, 0, lr, step);
            adam_bias.step(&mut head.bias, &g_bias, 0, lr, step);
            for &k in &touched {
                let range = k as usize * c..(k as usize + 1) * c;
                let g = &mut g_sparse[range.clone()];
                axpy(config.l2_lexical, &head.w_sparse[range.clone()], g);
                adam_sparse.step(&mut head.w_sparse, g, range.start, lr, step);
                g.iter_mut().for_each(|v| *v = 0.0);
                is_touched[k as usize] = false;
            }
            touched.clear();
        }
        on_epoch();
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_data_is_learned() {
        let dense: Vec<Vec<f32>> = vec![vec![1.0, 0.0], vec![0.9, 0.1], vec![0.0, 1.0], vec![0.1, 0.9]];
        let sparse: Vec<SparseVector> = vec![vec![(0, 1.0)], vec![], vec![(1, 1.0)], vec![]];
        let inputs: Vec<Input> = dense.iter().zip(&sparse).map(|(d, s)| Input { dense: d, sparse: s }).collect();
        let labels = [0, 0, 1, 1];
        let config = HeadConfig { epochs: 200, batch_size: 2, learning_rate: 0.05, ..HeadConfig::default() };
        let head = fit(&inputs, &labels, 2, None, 4, &config, || {});
        for (input, &label) in inputs.iter().zip(&labels) {
            let p = head.predict(*input);
            assert!(p[label] > 0.9, "{p:?} for label {label}");
        }
    }
}
