//! A project made from its sources: the facts file, the runbooks, and the shared sections and
//! steps. Reading them from disk is the caller's business.

use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::facts::Vocabulary;
use crate::runbook::load::{Library, RawRunbook, RawShared, Resolver};
use crate::runbook::{Runbook, validate};
use crate::toml_file;

/// A project's source files, as read.
#[derive(Default)]
pub struct Sources {
    pub facts: Option<Arc<SourceFile>>,
    pub runbooks: Vec<Arc<SourceFile>>,
    /// Files of shared sections and steps.
    pub shared: Vec<Arc<SourceFile>>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Project {
    pub vocab: Vocabulary,
    /// In checklist order: every `after` respected.
    pub runbooks: Vec<Runbook>,
}

impl Project {
    /// Parses and validates everything. Warnings come back with the project; any error makes
    /// the whole load fail with every diagnostic found. `diags` may already hold problems met
    /// while reading the files.
    pub fn from_sources(
        sources: Sources,
        mut diags: Diagnostics,
    ) -> Result<(Project, Diagnostics), Diagnostics> {
        let vocab = match &sources.facts {
            Some(file) => Vocabulary::load(file, &mut diags),
            None => Vocabulary::default(),
        };
        // The runbooks are checked against what of the facts file could be read; what
        // follows from its broken parts is reported there only.
        let mut library = Library::default();
        for file in &sources.shared {
            match toml_file::parse::<RawShared>(file) {
                Ok(raw) => library.add(file, raw, &mut diags),
                Err(d) => diags.push(d),
            }
        }
        let mut raw_runbooks = Vec::new();
        for file in sources.runbooks {
            match toml_file::parse::<RawRunbook>(&file) {
                Ok(raw) => raw_runbooks.push((file, raw)),
                Err(d) => diags.push(d),
            }
        }
        let mut resolver = Resolver {
            vocab: &vocab,
            library: &library,
            diags: &mut diags,
        };
        let runbooks: Vec<Runbook> = raw_runbooks
            .into_iter()
            .map(|(file, raw)| resolver.runbook(&file, raw))
            .collect();
        validate::validate(&runbooks, &vocab, &mut diags);
        if diags.has_errors() {
            return Err(diags.sorted());
        }
        let order = validate::order(&runbooks)?;
        let mut slots: Vec<Option<Runbook>> = runbooks.into_iter().map(Some).collect();
        let runbooks = order.into_iter().filter_map(|i| slots[i].take()).collect();
        Ok((Project { vocab, runbooks }, diags.sorted()))
    }

    pub fn runbook(&self, id: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|r| r.id == id)
    }

    /// The runbook with this id, or an error with a did-you-mean.
    pub fn find(&self, id: &str) -> Result<&Runbook, Diagnostic> {
        self.runbook(id).ok_or_else(|| {
            let ids: Vec<&str> = self.runbooks.iter().map(|r| r.id.as_str()).collect();
            // The id came from the command line: point there.
            let arg = crate::diagnostics::SourceFile::command_line(id.to_string());
            let mut d = Diagnostic::error(format!("no runbook `{id}`"))
                .at(&crate::diagnostics::Span::new(&arg, 0..id.len()));
            d = match crate::diagnostics::did_you_mean(id, ids.iter().copied()) {
                Some(close) => d.help(format!("did you mean \"{close}\"?")),
                None => d.help(format!("runbooks: {}", ids.join(", "))),
            };
            d
        })
    }
}
