// Command decls prints the top-level declarations of Go files with go/parser's own positions, one JSON
// object per file: what benchpipe's impact selection maps coverage blocks and diff hunks to.
//
// Usage: decls ROOT FILE...   (FILE relative to ROOT; a file that does not parse is reported with "error")
package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

type decl struct {
	Kind  string `json:"kind"` // func, method, var, const, type, import, init
	Name  string `json:"name"` // F, T.M (pointer receivers without *), a type's name, "_" imports by path
	Start int    `json:"start"`
	End   int    `json:"end"`
	Blank bool   `json:"blank,omitempty"` // an import for its side effects (_ or .)
}

type file struct {
	File       string `json:"file"`
	Package    string `json:"package"`
	Header     int    `json:"header"`               // the package clause's line: build constraints sit above it
	Constraint bool   `json:"constraint,omitempty"` // a //go:build or // +build line
	Cgo        bool   `json:"cgo,omitempty"`
	Embed      bool   `json:"embed,omitempty"`
	Generate   bool   `json:"generate,omitempty"`
	Generated  bool   `json:"generated,omitempty"`
	Decls      []decl `json:"decls"`
	Error      string `json:"error,omitempty"`
}

func recv(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return "?"
		}
	}
}

// start is where a declaration begins, its doc comment included when that holds a //go: directive (which
// changes how the declaration compiles).
func start(fset *token.FileSet, doc *ast.CommentGroup, pos token.Pos) int {
	if doc != nil {
		for _, c := range doc.List {
			if strings.HasPrefix(c.Text, "//go:") {
				return fset.Position(doc.Pos()).Line
			}
		}
	}
	return fset.Position(pos).Line
}

func parse(root, rel string) file {
	out := file{File: rel, Decls: []decl{}}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.ParseComments)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Package = f.Name.Name
	out.Header = fset.Position(f.Package).Line
	out.Generated = ast.IsGenerated(f)
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			out.Embed = out.Embed || strings.HasPrefix(c.Text, "//go:embed")
			out.Generate = out.Generate || strings.HasPrefix(c.Text, "//go:generate")
			if c.Pos() < f.Package && (strings.HasPrefix(c.Text, "//go:build") || strings.HasPrefix(c.Text, "// +build")) {
				out.Constraint = true
			}
		}
	}
	for _, d := range f.Decls {
		end := fset.Position(d.End()).Line
		switch d := d.(type) {
		case *ast.FuncDecl:
			s := start(fset, d.Doc, d.Pos())
			switch {
			case d.Recv != nil && len(d.Recv.List) > 0:
				out.Decls = append(out.Decls, decl{Kind: "method", Name: recv(d.Recv.List[0].Type) + "." + d.Name.Name, Start: s, End: end})
			case d.Name.Name == "init":
				out.Decls = append(out.Decls, decl{Kind: "init", Name: "init", Start: s, End: end})
			default:
				out.Decls = append(out.Decls, decl{Kind: "func", Name: d.Name.Name, Start: s, End: end})
			}
		case *ast.GenDecl:
			s := start(fset, d.Doc, d.Pos())
			switch d.Tok {
			case token.IMPORT:
				for _, sp := range d.Specs {
					is := sp.(*ast.ImportSpec)
					if is.Path.Value == `"C"` {
						out.Cgo = true
					}
					blank := is.Name != nil && (is.Name.Name == "_" || is.Name.Name == ".")
					out.Decls = append(out.Decls, decl{Kind: "import", Name: strings.Trim(is.Path.Value, `"`), Start: fset.Position(sp.Pos()).Line, End: fset.Position(sp.End()).Line, Blank: blank})
				}
			case token.TYPE:
				for _, sp := range d.Specs {
					ts := sp.(*ast.TypeSpec)
					ss := s
					if len(d.Specs) > 1 {
						ss = fset.Position(sp.Pos()).Line
					}
					out.Decls = append(out.Decls, decl{Kind: "type", Name: ts.Name.Name, Start: ss, End: fset.Position(sp.End()).Line})
				}
			default: // var, const
				names := []string{}
				for _, sp := range d.Specs {
					for _, n := range sp.(*ast.ValueSpec).Names {
						names = append(names, n.Name)
					}
				}
				out.Decls = append(out.Decls, decl{Kind: strings.ToLower(d.Tok.String()), Name: strings.Join(names, ","), Start: s, End: end})
			}
		}
	}
	return out
}

func main() {
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: decls ROOT FILE...\n")
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, rel := range os.Args[2:] {
		if err := enc.Encode(parse(os.Args[1], rel)); err != nil {
			os.Exit(1)
		}
	}
}
