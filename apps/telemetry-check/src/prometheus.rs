//! PromQL instant queries (`/api/v1/query`), which Prometheus, Mimir, Thanos and
//! VictoriaMetrics all serve: the values of every returned series are summed.

use serde::Deserialize;

use crate::backend::{self, BackendError};

/// A Prometheus-compatible query endpoint.
#[derive(Debug, Clone)]
pub struct Prometheus {
    http: reqwest::Client,
    base: String,
}

/// The sum of an instant query's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Sum of the finite values; NaN when every returned value was NaN.
    pub value: f64,
    /// How many series (or 1 for a scalar) came back.
    pub series: usize,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<VectorItem>),
    Scalar((f64, String)),
    Matrix(serde::de::IgnoredAny),
    String(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct VectorItem {
    value: (f64, String),
}

impl Prometheus {
    pub fn new(http: reqwest::Client, base: impl Into<String>) -> Self {
        Prometheus {
            http,
            base: base.into(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Runs an instant query and sums the values of all returned series.
    pub async fn query_sum(&self, promql: &str) -> Result<Sample, BackendError> {
        let url = backend::join(&self.base, "api/v1/query");
        let (status, body) =
            backend::get_text(&self.http, &url, &[("query", promql.to_owned())]).await?;
        // Prometheus answers 400/422 with a JSON error for a bad query.
        let envelope: Envelope = match backend::decode(&url, &body) {
            Ok(envelope) => envelope,
            Err(_) if status != 200 => {
                return Err(BackendError::Unexpected {
                    url,
                    detail: format!("HTTP {status}: {}", backend::excerpt(&body)),
                });
            }
            Err(err) => return Err(err),
        };
        if envelope.status != "success" {
            let message = envelope.error.unwrap_or_else(|| backend::excerpt(&body));
            return Err(if (400..500).contains(&status) {
                BackendError::Rejected { url, message }
            } else {
                BackendError::Unexpected {
                    url,
                    detail: format!("HTTP {status}: {message}"),
                }
            });
        }
        sum(&url, envelope.data)
    }

    /// A query every compatible backend answers: proves the URL is right.
    pub async fn probe(&self) -> Result<(), BackendError> {
        self.query_sum("vector(1)").await.map(|_| ())
    }
}

fn sum(url: &str, data: Option<Data>) -> Result<Sample, BackendError> {
    let parse = |text: &str| -> Result<f64, BackendError> {
        match text {
            "NaN" => Ok(f64::NAN),
            "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            _ => text.parse().map_err(|_| BackendError::Unexpected {
                url: url.to_owned(),
                detail: format!("a sample value that is not a number: {text:?}"),
            }),
        }
    };
    match data {
        Some(Data::Vector(items)) => {
            let values = items
                .iter()
                .map(|item| parse(&item.value.1))
                .collect::<Result<Vec<_>, _>>()?;
            let finite: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            let value = if !values.is_empty() && finite.is_empty() {
                f64::NAN
            } else {
                finite.iter().sum()
            };
            Ok(Sample {
                value,
                series: values.len(),
            })
        }
        Some(Data::Scalar((_, text))) => Ok(Sample {
            value: parse(&text)?,
            series: 1,
        }),
        Some(Data::Matrix(_) | Data::String(_)) | None => Err(BackendError::Rejected {
            url: url.to_owned(),
            message: "the query must return an instant vector or a scalar".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(json: &str) -> Option<Data> {
        serde_json::from_str::<Envelope>(json).unwrap().data
    }

    #[test]
    fn a_vector_is_summed() {
        let json = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"a":"1"},"value":[1.5,"2"]},{"metric":{"a":"2"},"value":[1.5,"0.5"]}]}}"#;
        assert_eq!(
            sum("u", data(json)).unwrap(),
            Sample {
                value: 2.5,
                series: 2
            }
        );
    }

    #[test]
    fn an_empty_vector_is_zero_series() {
        let json = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        let sample = sum("u", data(json)).unwrap();
        assert_eq!((sample.value, sample.series), (0.0, 0));
    }

    #[test]
    fn nan_values_are_skipped_unless_all_are_nan() {
        let json = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{},"value":[1,"NaN"]},{"metric":{},"value":[1,"3"]}]}}"#;
        assert_eq!(sum("u", data(json)).unwrap().value, 3.0);
        let json = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{},"value":[1,"NaN"]}]}}"#;
        assert!(sum("u", data(json)).unwrap().value.is_nan());
    }

    #[test]
    fn a_scalar_counts_as_one_series() {
        let json = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"7"]}}"#;
        assert_eq!(sum("u", data(json)).unwrap().series, 1);
    }

    #[test]
    fn a_range_result_is_rejected() {
        let json = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(matches!(
            sum("u", data(json)),
            Err(BackendError::Rejected { .. })
        ));
    }
}
