//! Condition lexer: splits text into operators, parentheses and phrase text, each
//! with its byte span. Quoted text (`'...'`) is part of a phrase and may contain
//! the operator characters.
//!
//! OWNED BY THE CONDITION-PARSER WORK.
