//! elastic rule files (placeholder until implemented).

use crate::rule::ParsedFile;
use crate::source::SourceFile;

pub fn parse(_file: &SourceFile) -> ParsedFile {
    ParsedFile::default()
}
