// Package archtest holds the test that keeps Ward's architecture honest:
// imports point only down the layers DESIGN.md draws, siblings never import
// each other, and no production file grows past 1,000 lines.
package archtest
