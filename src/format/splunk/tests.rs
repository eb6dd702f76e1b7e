use super::*;
use crate::diagnostic::Severity;

fn file(text: &str) -> SourceFile {
    SourceFile::new("t.yml", text)
}

#[test]
fn dev_yaml_error_messages() {
    for bad in ["a: [1\nb: 2", "name: x\nsearch: 'x\n", "a:\n\tb: 1"] {
        let r = parse(&file(bad));
        println!("{:?}", r.issues);
    }
}
