//! Rule file formats: recognise a file by content and parse it into
//! [`DetectionRule`]s.

pub mod elastic;
pub mod sigma;
pub mod splunk;

use crate::rule::{Format, ParsedFile};
use crate::source::SourceFile;

/// Parse `file` as `format`.
pub fn parse(format: Format, file: &SourceFile) -> ParsedFile {
    match format {
        Format::Sigma => sigma::parse(file),
        Format::Elastic => elastic::parse(file),
        Format::Splunk => splunk::parse(file),
    }
}
