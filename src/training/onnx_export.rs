//! Writes the head as an ONNX model. The few `onnx.proto` messages needed are declared here
//! with their field numbers from the ONNX specification (onnx/onnx.proto, Apache-2.0), so no
//! protobuf compiler is needed.

use prost::Message;

use super::softmax::SoftmaxHead;
use crate::classifier::head::{INPUT_EMBEDDING, INPUT_LEXICAL, OUTPUT_PROBABILITIES};

const IR_VERSION: i64 = 8;
const OPSET: i64 = 17;
const FLOAT: i32 = 1;
const ATTRIBUTE_INT: i32 = 2;

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(int64, tag = "1")]
    ir_version: i64,
    #[prost(string, tag = "2")]
    producer_name: String,
    #[prost(string, tag = "3")]
    producer_version: String,
    #[prost(string, tag = "6")]
    doc_string: String,
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    opset_import: Vec<OperatorSetIdProto>,
    #[prost(message, repeated, tag = "14")]
    metadata_props: Vec<StringStringEntryProto>,
}

#[derive(Clone, PartialEq, Message)]
struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    domain: String,
    #[prost(int64, tag = "2")]
    version: i64,
}

#[derive(Clone, PartialEq, Message)]
struct StringStringEntryProto {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct AttributeProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int64, tag = "3")]
    i: i64,
    #[prost(int32, tag = "20")]
    r#type: i32,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct ValueInfoProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TypeProto {
    #[prost(message, optional, tag = "1")]
    tensor_type: Option<TensorTypeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    elem_type: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    dim: Vec<Dimension>,
}

#[derive(Clone, PartialEq, Message)]
struct Dimension {
    #[prost(oneof = "DimensionValue", tags = "1, 2")]
    value: Option<DimensionValue>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum DimensionValue {
    #[prost(int64, tag = "1")]
    DimValue(i64),
    #[prost(string, tag = "2")]
    DimParam(String),
}

fn tensor(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: FLOAT,
        name: name.into(),
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn float_matrix(name: &str, columns: usize) -> ValueInfoProto {
    let dims = vec![
        Dimension { value: Some(DimensionValue::DimParam("batch".into())) },
        Dimension { value: Some(DimensionValue::DimValue(columns as i64)) },
    ];
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto { elem_type: FLOAT, shape: Some(TensorShapeProto { dim: dims }) }),
        }),
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: output.into(),
        op_type: op.into(),
        attribute,
    }
}

/// The head as ONNX bytes: softmax(embedding · W_dense + lexical · W_sparse + bias).
/// `metadata` goes into the model's `metadata_props` (labels, version).
pub fn head_to_onnx(head: &SoftmaxHead, metadata: &[(&str, String)]) -> Vec<u8> {
    let c = head.classes;
    let graph = GraphProto {
        name: "switchboard_head".into(),
        node: vec![
            node("MatMul", &[INPUT_EMBEDDING, "w_dense"], "dense_logits", vec![]),
            node("MatMul", &[INPUT_LEXICAL, "w_sparse"], "sparse_logits", vec![]),
            node("Add", &["dense_logits", "sparse_logits"], "sum_logits", vec![]),
            node("Add", &["sum_logits", "bias"], "logits", vec![]),
            node(
                "Softmax",
                &["logits"],
                OUTPUT_PROBABILITIES,
                vec![AttributeProto { name: "axis".into(), i: -1, r#type: ATTRIBUTE_INT }],
            ),
        ],
        initializer: vec![
            tensor("w_dense", &[head.dense_dim, c], &head.w_dense),
            tensor("w_sparse", &[head.sparse_dim, c], &head.w_sparse),
            tensor("bias", &[c], &head.bias),
        ],
        input: vec![float_matrix(INPUT_EMBEDDING, head.dense_dim), float_matrix(INPUT_LEXICAL, head.sparse_dim)],
        output: vec![float_matrix(OUTPUT_PROBABILITIES, c)],
    };
    let model = ModelProto {
        ir_version: IR_VERSION,
        producer_name: "switchboard".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: "Switchboard intent head: softmax regression over a sentence embedding and hashed lexical features"
            .into(),
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
        metadata_props: metadata
            .iter()
            .map(|(k, v)| StringStringEntryProto { key: (*k).into(), value: v.clone() })
            .collect(),
    };
    model.encode_to_vec()
}
