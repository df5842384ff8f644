/* parser.y: aso's grammar (lemon, LALR(1)): the Python 3.11 subset, with its
 * precedence levels spelled out as nonterminals. Actions build ast.h nodes via
 * the pc_* helpers of parse.c. Pipeline: lexer -> parse.c -> this grammar -> AST.
 */
%name AsoParse
%token_prefix TK_
%token_type {Token *}
%default_type {Node *}
%extra_context {ParseCtx *ctx}
%stack_size 4000
%stack_overflow { pc_error(ctx, 1, 1, 2, "too many nested parentheses"); }
%syntax_error { pc_syntax_error(ctx, yymajor, TOKEN); (void)yyminor; }

%include {
#include <assert.h>
#include <string.h>
#include "lexer.h"
/* the driver's hook for parse errors (parse.c) */
void pc_syntax_error(ParseCtx *ctx, int type, Token *t);
#define AR ctx->arena
}

%token FILE_START EXPR_START NEWLINE INDENT DEDENT NAME NUMBER STRING.
%token AND AS ASSERT ASYNC AWAIT BREAK CLASS CONTINUE DEF DEL ELIF ELSE EXCEPT.
%token FINALLY FOR FROM GLOBAL IF IMPORT IN IS LAMBDA NONLOCAL NOT OR PASS RAISE.
%token RETURN TRY WHILE WITH YIELD NONE TRUE FALSE.
%token PLUS MINUS STAR SLASH DSLASH PERCENT DSTAR AT LSHIFT RSHIFT AMP BAR CARET.
%token TILDE LT GT LE GE EQEQ NE ARROW COLONEQ AUGASSIGN LPAREN RPAREN LBRACK.
%token RBRACK LBRACE RBRACE COMMA COLON SEMI DOT ELLIPSIS EQUAL WLPAREN.

start ::= FILE_START file_input(B). {
  Node *m = ast_new(AR, N_MODULE, 1, 1);
  m->body = B;
  ctx->result = m;
}
start ::= EXPR_START tse(E). { ctx->result = E; }
start ::= EXPR_START yield_expr(E). { ctx->result = E; }

/* ---------------- statements ---------------- */
%type file_input {NodeList}
file_input(A) ::= . { memset(&A, 0, sizeof A); }
file_input(A) ::= file_input(B) stmt(S). { A = B; pc_extend(ctx, &A, &S); }

%type stmt {NodeList}
stmt(A) ::= simple_stmt(B). { A = B; }
stmt(A) ::= compound_stmt(C). { A = pc_one(ctx, C); }

%type simple_stmt {NodeList}
simple_stmt(A) ::= small_stmts(B) NEWLINE. { A = B; }
simple_stmt(A) ::= small_stmts(B) SEMI NEWLINE. { A = B; }

%type small_stmts {NodeList}
small_stmts(A) ::= small_stmt(S). { A = pc_one(ctx, S); }
small_stmts(A) ::= small_stmts(B) SEMI small_stmt(S). { A = B; ast_list_push(AR, &A, S); }

small_stmt(A) ::= tse(E). { A = pc_expr_stmt(ctx, E); }
small_stmt(A) ::= yield_expr(E). { A = pc_expr_stmt(ctx, E); }
small_stmt(A) ::= tse(T) AUGASSIGN(O) tse(V). { A = pc_augassign(ctx, T, O, V); }
small_stmt(A) ::= tse(T) AUGASSIGN(O) yield_expr(V). { A = pc_augassign(ctx, T, O, V); }
small_stmt(A) ::= tse(T) COLON test. { A = pc_annassign(ctx, T, NULL); }
small_stmt(A) ::= tse(T) COLON test EQUAL rhs(V). { A = pc_annassign(ctx, T, V); }
small_stmt(A) ::= assign_lhs(L) rhs(V). { A = pc_assign(ctx, L, V); }
small_stmt(A) ::= PASS(T). { A = pc_end(pc_tok(ctx, N_PASS, T), T); }
small_stmt(A) ::= BREAK(T). { A = pc_end(pc_tok(ctx, N_BREAK, T), T); }
small_stmt(A) ::= CONTINUE(T). { A = pc_end(pc_tok(ctx, N_CONTINUE, T), T); }
small_stmt(A) ::= RETURN(T). { A = pc_end(pc_tok(ctx, N_RETURN, T), T); }
small_stmt(A) ::= RETURN(T) tse(E). {
  pc_no_walrus(ctx, E);
  A = pc_endn(pc_tok(ctx, N_RETURN, T), E); A->a = E;
}
small_stmt(A) ::= RAISE(T). { A = pc_end(pc_tok(ctx, N_RAISE, T), T); }
small_stmt(A) ::= RAISE(T) test(E). { A = pc_endn(pc_tok(ctx, N_RAISE, T), E); A->a = E; }
small_stmt(A) ::= RAISE(T) test(E) FROM test(C). {
  A = pc_endn(pc_tok(ctx, N_RAISE, T), C); A->a = E; A->b = C;
}
small_stmt(A) ::= GLOBAL(T) names(L). { A = pc_tok(ctx, N_GLOBAL, T); A->list = L; }
small_stmt(A) ::= NONLOCAL(T) names(L). { A = pc_tok(ctx, N_NONLOCAL, T); A->list = L; }
small_stmt(A) ::= DEL(T) exprlist(E). {
  A = pc_endn(pc_tok(ctx, N_DEL, T), E);
  if (E->kind == N_TUPLE && !(E->flags & NF_PAREN)) A->list = E->list;
  else A->list = pc_one(ctx, E);
  for (int i = 0; i < A->list.len; i++) pc_target(ctx, A->list.items[i], TGT_DEL);
}
small_stmt(A) ::= ASSERT(T) test(E). { A = pc_endn(pc_tok(ctx, N_ASSERT, T), E); A->a = E; }
small_stmt(A) ::= ASSERT(T) test(E) COMMA test(M). {
  A = pc_endn(pc_tok(ctx, N_ASSERT, T), M); A->a = E; A->b = M;
}
small_stmt(A) ::= IMPORT(T) dotted_as_names(L). { A = pc_tok(ctx, N_IMPORT, T); A->list = L; }
small_stmt(A) ::= FROM(T) from_mod(M) IMPORT STAR. {
  A = M; A->line = T->line; A->col = T->col; A->flags |= NF_STAR;
}
small_stmt(A) ::= FROM(T) from_mod(M) IMPORT LPAREN import_names(L) RPAREN. {
  A = M; A->line = T->line; A->col = T->col; A->list = L;
}
small_stmt(A) ::= FROM(T) from_mod(M) IMPORT LPAREN import_names(L) COMMA RPAREN. {
  A = M; A->line = T->line; A->col = T->col; A->list = L;
}
small_stmt(A) ::= FROM(T) from_mod(M) IMPORT import_names(L). {
  A = M; A->line = T->line; A->col = T->col; A->list = L;
}
small_stmt(A) ::= FROM from_mod IMPORT import_names COMMA(C). {
  A = NULL;
  pc_error(ctx, C->line, C->end_col, C->end_col + 1,
           "trailing comma not allowed without surrounding parentheses");
}

%type assign_lhs {NodeList}
assign_lhs(A) ::= tse(T) EQUAL. { A = pc_one(ctx, T); }
assign_lhs(A) ::= assign_lhs(B) rhs(T) EQUAL. { A = B; ast_list_push(AR, &A, T); }

rhs(A) ::= tse(E). { A = E; }
rhs(A) ::= yield_expr(E). { A = E; }

%type names {NodeList}
names(A) ::= NAME(N). { A = pc_one(ctx, pc_name(ctx, N)); }
names(A) ::= names(B) COMMA NAME(N). { A = B; ast_list_push(AR, &A, pc_name(ctx, N)); }

dotted_name(A) ::= NAME(N). { A = pc_name(ctx, N); }
dotted_name(A) ::= dotted_name(B) DOT NAME(N). { A = pc_dotted(ctx, B, N); }

%type dotted_as_names {NodeList}
dotted_as_names(A) ::= dotted_as_name(N). { A = pc_one(ctx, N); }
dotted_as_names(A) ::= dotted_as_names(B) COMMA dotted_as_name(N). {
  A = B; ast_list_push(AR, &A, N);
}
dotted_as_name(A) ::= dotted_name(D). { A = pc_at(ctx, N_ALIAS, D); A->str = D->str; }
dotted_as_name(A) ::= dotted_name(D) AS NAME(N). {
  A = pc_at(ctx, N_ALIAS, D); A->str = D->str; A->str2 = pc_name(ctx, N)->str;
}

from_mod(A) ::= dotted_name(D). { A = pc_at(ctx, N_IMPORTFROM, D); A->str = D->str; }
from_mod(A) ::= dots(N). { A = ast_new(AR, N_IMPORTFROM, 1, 1); A->str = ""; A->ival = N; }
from_mod(A) ::= dots(N) dotted_name(D). {
  A = pc_at(ctx, N_IMPORTFROM, D); A->str = D->str; A->ival = N;
}
%type dots {int}
dots(A) ::= DOT. { A = 1; }
dots(A) ::= ELLIPSIS. { A = 3; }
dots(A) ::= dots(B) DOT. { A = B + 1; }
dots(A) ::= dots(B) ELLIPSIS. { A = B + 3; }

%type import_names {NodeList}
import_names(A) ::= import_name(N). { A = pc_one(ctx, N); }
import_names(A) ::= import_names(B) COMMA import_name(N). { A = B; ast_list_push(AR, &A, N); }
import_name(A) ::= NAME(N). { A = pc_tok(ctx, N_ALIAS, N); A->str = pc_name(ctx, N)->str; }
import_name(A) ::= NAME(N) AS NAME(M). {
  A = pc_tok(ctx, N_ALIAS, N); A->str = pc_name(ctx, N)->str; A->str2 = pc_name(ctx, M)->str;
}

/* ---------------- compound statements ---------------- */
compound_stmt(A) ::= if_stmt(S). { A = S; }
compound_stmt(A) ::= WHILE(T) namedexpr(E) COLON suite(B). {
  A = pc_tok(ctx, N_WHILE, T); A->a = E; A->body = B;
}
compound_stmt(A) ::= WHILE(T) namedexpr(E) COLON suite(B) ELSE COLON suite(O). {
  A = pc_tok(ctx, N_WHILE, T); A->a = E; A->body = B; A->orelse = O;
}
compound_stmt(A) ::= for_stmt(S). { A = S; }
compound_stmt(A) ::= try_stmt(S). { A = S; pc_try(ctx, S); }
compound_stmt(A) ::= with_stmt(S). { A = S; }
compound_stmt(A) ::= funcdef(S). { A = S; }
compound_stmt(A) ::= classdef(S). { A = S; }
compound_stmt(A) ::= decorators(D) funcdef(S). { A = S; A->list = D; }
compound_stmt(A) ::= decorators(D) ASYNC funcdef(S). { A = S; A->list = D; A->flags |= NF_ASYNC; }
compound_stmt(A) ::= decorators(D) classdef(S). { A = S; A->orelse = D; }
compound_stmt(A) ::= ASYNC(T) funcdef(S). {
  A = S; A->flags |= NF_ASYNC; A->line = T->line; A->col = T->col;
}
compound_stmt(A) ::= ASYNC(T) for_stmt(S). {
  A = S; A->flags |= NF_ASYNC; A->line = T->line; A->col = T->col;
}
compound_stmt(A) ::= ASYNC(T) with_stmt(S). {
  A = S; A->flags |= NF_ASYNC; A->line = T->line; A->col = T->col;
}

%type suite {NodeList}
suite(A) ::= simple_stmt(B). { A = B; }
suite(A) ::= NEWLINE INDENT stmts(B) DEDENT. { A = B; }
%type stmts {NodeList}
stmts(A) ::= stmt(S). { A = S; }
stmts(A) ::= stmts(B) stmt(S). { A = B; pc_extend(ctx, &A, &S); }

if_stmt(A) ::= if_head(H). { A = H; }
if_stmt(A) ::= if_head(H) ELSE COLON suite(B). {
  A = H;
  Node *last = H;
  while (last->orelse.len == 1 && last->orelse.items[0]->kind == N_IF &&
         last->orelse.items[0]->c == NULL) last = last->orelse.items[0];
  last->orelse = B;
}
if_head(A) ::= IF(T) namedexpr(E) COLON suite(B). {
  A = pc_tok(ctx, N_IF, T); A->a = E; A->body = B;
}
if_head(A) ::= if_head(H) ELIF(T) namedexpr(E) COLON suite(B). {
  A = H;
  Node *n = pc_tok(ctx, N_IF, T); n->a = E; n->body = B;
  Node *last = H;
  while (last->orelse.len == 1 && last->orelse.items[0]->kind == N_IF) {
    last = last->orelse.items[0];
  }
  last->orelse = pc_one(ctx, n);
}

for_stmt(A) ::= FOR(T) exprlist(X) IN tse(E) COLON suite(B). {
  pc_target(ctx, X, TGT_FOR); pc_no_walrus(ctx, E);
  A = pc_tok(ctx, N_FOR, T); A->a = X; A->b = E; A->body = B;
}
for_stmt(A) ::= FOR(T) exprlist(X) IN tse(E) COLON suite(B) ELSE COLON suite(O). {
  pc_target(ctx, X, TGT_FOR); pc_no_walrus(ctx, E);
  A = pc_tok(ctx, N_FOR, T); A->a = X; A->b = E; A->body = B; A->orelse = O;
}

try_stmt(A) ::= TRY(T) COLON suite(B) handlers(H). {
  A = pc_tok(ctx, N_TRY, T); A->body = B; A->list = H;
}
try_stmt(A) ::= TRY(T) COLON suite(B) handlers(H) ELSE COLON suite(O). {
  A = pc_tok(ctx, N_TRY, T); A->body = B; A->list = H; A->orelse = O;
}
try_stmt(A) ::= TRY(T) COLON suite(B) handlers(H) FINALLY COLON suite(F). {
  A = pc_tok(ctx, N_TRY, T); A->body = B; A->list = H; A->finalbody = F;
}
try_stmt(A) ::= TRY(T) COLON suite(B) handlers(H) ELSE COLON suite(O) FINALLY COLON suite(F). {
  A = pc_tok(ctx, N_TRY, T); A->body = B; A->list = H; A->orelse = O; A->finalbody = F;
}
try_stmt(A) ::= TRY(T) COLON suite(B) FINALLY COLON suite(F). {
  A = pc_tok(ctx, N_TRY, T); A->body = B; A->finalbody = F;
}
%type handlers {NodeList}
handlers(A) ::= handler(H). { A = pc_one(ctx, H); }
handlers(A) ::= handlers(B) handler(H). { A = B; ast_list_push(AR, &A, H); }
handler(A) ::= EXCEPT(T) COLON(C) suite(B). {
  A = pc_end(pc_tok(ctx, N_EXCEPT, T), C); A->body = B;
}
handler(A) ::= EXCEPT(T) test(E) COLON suite(B). {
  A = pc_endn(pc_tok(ctx, N_EXCEPT, T), E); A->a = E; A->body = B;
}
handler(A) ::= EXCEPT(T) test(E) AS NAME(N) COLON suite(B). {
  A = pc_end(pc_tok(ctx, N_EXCEPT, T), N); A->a = E; A->str = pc_name(ctx, N)->str;
  A->body = B;
}
handler(A) ::= EXCEPT(T) STAR test(E) COLON suite(B). {
  A = pc_endn(pc_tok(ctx, N_EXCEPT, T), E); A->a = E; A->body = B; A->flags |= NF_STAR;
}
handler(A) ::= EXCEPT(T) STAR COLON(C) suite. {
  A = pc_tok(ctx, N_EXCEPT, T);
  pc_error(ctx, C->line, C->col, C->col + 1, "expected one or more exception types");
}
handler(A) ::= EXCEPT(T) STAR test(E) AS NAME(N) COLON suite(B). {
  A = pc_end(pc_tok(ctx, N_EXCEPT, T), N); A->a = E; A->str = pc_name(ctx, N)->str;
  A->body = B; A->flags |= NF_STAR;
}
handler(A) ::= EXCEPT test(E) COMMA slist(L) COLON suite. {
  A = NULL;
  Node *last = L.items[L.len - 1];
  pc_error(ctx, E->line, E->col, last->end_line == E->line ? last->end_col : E->col + 1,
           "multiple exception types must be parenthesized");
}

with_stmt(A) ::= WITH(T) with_items(L) COLON suite(B). {
  A = pc_tok(ctx, N_WITH, T); A->list = L; A->body = B;
}
with_stmt(A) ::= WITH(T) WLPAREN with_items(L) RPAREN COLON suite(B). {
  A = pc_tok(ctx, N_WITH, T); A->list = L; A->body = B;
}
with_stmt(A) ::= WITH(T) WLPAREN with_items(L) COMMA RPAREN COLON suite(B). {
  A = pc_tok(ctx, N_WITH, T); A->list = L; A->body = B;
}
%type with_items {NodeList}
with_items(A) ::= with_item(W). { A = pc_one(ctx, W); }
with_items(A) ::= with_items(B) COMMA with_item(W). { A = B; ast_list_push(AR, &A, W); }
with_item(A) ::= test(E). { A = pc_endn(pc_at(ctx, N_WITHITEM, E), E); A->a = E; }
with_item(A) ::= test(E) AS expr(X). {
  pc_target(ctx, X, TGT_WITH);
  A = pc_endn(pc_at(ctx, N_WITHITEM, E), X); A->a = E; A->b = X;
}

funcdef(A) ::= DEF(T) NAME(N) LPAREN params(P) RPAREN ret_ann COLON suite(B). {
  A = pc_tok(ctx, N_FUNCDEF, T); A->str = pc_name(ctx, N)->str; A->params = P; A->body = B;
  pc_params(ctx, &A->params);
}
ret_ann ::= .
ret_ann ::= ARROW test.

%type params {NodeList}
params(A) ::= . { memset(&A, 0, sizeof A); }
params(A) ::= plist(L). { A = L; }
params(A) ::= plist(L) COMMA. { A = L; }
%type plist {NodeList}
plist(A) ::= pentry(P). { A = pc_one(ctx, P); }
plist(A) ::= plist(B) COMMA pentry(P). { A = B; ast_list_push(AR, &A, P); }
pentry(A) ::= NAME(N) ann. {
  A = pc_end(pc_tok(ctx, N_PARAM, N), N); A->str = pc_name(ctx, N)->str;
}
pentry(A) ::= NAME(N) ann EQUAL test(D). {
  A = pc_end(pc_tok(ctx, N_PARAM, N), N); A->str = pc_name(ctx, N)->str; A->a = D;
}
pentry(A) ::= STAR(S). { A = pc_end(pc_tok(ctx, N_PARAM, S), S); A->op = PARAM_VARARGS; }
pentry(A) ::= STAR(S) NAME(N) ann. {
  A = pc_end(pc_tok(ctx, N_PARAM, S), N); A->op = PARAM_VARARGS; A->str = pc_name(ctx, N)->str;
}
pentry(A) ::= DSTAR(S) NAME(N) ann. {
  A = pc_end(pc_tok(ctx, N_PARAM, S), N); A->op = PARAM_VARKW; A->str = pc_name(ctx, N)->str;
}
pentry(A) ::= SLASH(S). { A = pc_end(pc_tok(ctx, N_PARAM, S), S); A->op = PARAM_POSONLY; }
ann ::= .
ann ::= COLON test.

%type lparams {NodeList}
lparams(A) ::= . { memset(&A, 0, sizeof A); }
lparams(A) ::= lplist(L). { A = L; }
lparams(A) ::= lplist(L) COMMA. { A = L; }
%type lplist {NodeList}
lplist(A) ::= lpentry(P). { A = pc_one(ctx, P); }
lplist(A) ::= lplist(B) COMMA lpentry(P). { A = B; ast_list_push(AR, &A, P); }
lpentry(A) ::= NAME(N). { A = pc_end(pc_tok(ctx, N_PARAM, N), N); A->str = pc_name(ctx, N)->str; }
lpentry(A) ::= NAME(N) EQUAL test(D). {
  A = pc_end(pc_tok(ctx, N_PARAM, N), N); A->str = pc_name(ctx, N)->str; A->a = D;
}
lpentry(A) ::= STAR(S). { A = pc_end(pc_tok(ctx, N_PARAM, S), S); A->op = PARAM_VARARGS; }
lpentry(A) ::= STAR(S) NAME(N). {
  A = pc_end(pc_tok(ctx, N_PARAM, S), N); A->op = PARAM_VARARGS; A->str = pc_name(ctx, N)->str;
}
lpentry(A) ::= DSTAR(S) NAME(N). {
  A = pc_end(pc_tok(ctx, N_PARAM, S), N); A->op = PARAM_VARKW; A->str = pc_name(ctx, N)->str;
}
lpentry(A) ::= SLASH(S). { A = pc_end(pc_tok(ctx, N_PARAM, S), S); A->op = PARAM_POSONLY; }

classdef(A) ::= CLASS(T) NAME(N) COLON suite(B). {
  NodeList none; memset(&none, 0, sizeof none);
  A = pc_class(ctx, T, N, none, B);
}
classdef(A) ::= CLASS(T) NAME(N) LPAREN RPAREN COLON suite(B). {
  NodeList none; memset(&none, 0, sizeof none);
  A = pc_class(ctx, T, N, none, B);
}
classdef(A) ::= CLASS(T) NAME(N) LPAREN arglist(L) RPAREN COLON suite(B). {
  A = pc_class(ctx, T, N, L, B);
}

%type decorators {NodeList}
decorators(A) ::= AT namedexpr(E) NEWLINE. { A = pc_one(ctx, E); }
decorators(A) ::= decorators(B) AT namedexpr(E) NEWLINE. { A = B; ast_list_push(AR, &A, E); }

/* ---------------- expressions ---------------- */
/* a comma list at statement level: a tuple unless it is one item, no comma */
tse(A) ::= slist(L). { A = pc_tuple(ctx, L, true, NULL); }
tse(A) ::= slist(L) COMMA(C). { A = pc_end(pc_tuple(ctx, L, false, NULL), C); }

%type slist {NodeList}
slist(A) ::= sitem(E). { A = pc_one(ctx, E); }
slist(A) ::= slist(B) COMMA sitem(E). { A = B; ast_list_push(AR, &A, E); }
sitem(A) ::= namedexpr(E). { A = E; }
sitem(A) ::= star_expr(E). { A = E; }

star_expr(A) ::= STAR(S) expr(E). { A = pc_endn(pc_tok(ctx, N_STARRED, S), E); A->a = E; }

exprlist(A) ::= explist(L). { A = pc_tuple(ctx, L, true, NULL); }
exprlist(A) ::= explist(L) COMMA(C). { A = pc_end(pc_tuple(ctx, L, false, NULL), C); }
%type explist {NodeList}
explist(A) ::= expr_or_star(E). { A = pc_one(ctx, E); }
explist(A) ::= explist(B) COMMA expr_or_star(E). { A = B; ast_list_push(AR, &A, E); }
expr_or_star(A) ::= expr(E). { A = E; }
expr_or_star(A) ::= star_expr(E). { A = E; }

yield_expr(A) ::= YIELD(T). { A = pc_end(pc_tok(ctx, N_YIELD, T), T); }
yield_expr(A) ::= YIELD(T) tse(E). {
  pc_no_walrus(ctx, E); A = pc_endn(pc_tok(ctx, N_YIELD, T), E); A->a = E;
}
yield_expr(A) ::= YIELD(T) FROM test(E). {
  A = pc_endn(pc_tok(ctx, N_YIELD_FROM, T), E); A->a = E;
}

namedexpr(A) ::= test(E). { A = E; }
namedexpr(A) ::= test(X) COLONEQ(T) test(E). { A = pc_walrus(ctx, X, T, E); }

test(A) ::= or_test(E). { A = E; }
test(A) ::= or_test(B) IF or_test(T) ELSE test(C). {
  A = pc_endn(pc_at(ctx, N_IFEXP, B), C); A->a = T; A->b = B; A->c = C;
}
test(A) ::= lambdef(E). { A = E; }
lambdef(A) ::= LAMBDA(T) lparams(P) COLON test(E). {
  A = pc_endn(pc_tok(ctx, N_LAMBDA, T), E); A->params = P; A->a = E;
  pc_params(ctx, &A->params);
}

or_test(A) ::= and_test(E). { A = E; }
or_test(A) ::= or_test(L) OR and_test(R). {
  A = pc_endn(pc_at(ctx, N_BOOLOP, L), R); A->op = BOP_OR; A->a = L; A->b = R;
}
and_test(A) ::= not_test(E). { A = E; }
and_test(A) ::= and_test(L) AND not_test(R). {
  A = pc_endn(pc_at(ctx, N_BOOLOP, L), R); A->op = BOP_AND; A->a = L; A->b = R;
}
not_test(A) ::= NOT(T) not_test(E). {
  A = pc_endn(pc_tok(ctx, N_UNARYOP, T), E); A->op = UOP_NOT; A->a = E;
}
not_test(A) ::= comparison(E). { A = E; }

comparison(A) ::= expr(E). { A = E; }
comparison(A) ::= comparison(L) comp_op(O) expr(R). { A = pc_compare(ctx, L, O, R); }
%type comp_op {int}
comp_op(A) ::= LT. { A = CMP_LT; }
comp_op(A) ::= GT. { A = CMP_GT; }
comp_op(A) ::= EQEQ. { A = CMP_EQ; }
comp_op(A) ::= GE. { A = CMP_GE; }
comp_op(A) ::= LE. { A = CMP_LE; }
comp_op(A) ::= NE. { A = CMP_NE; }
comp_op(A) ::= IN. { A = CMP_IN; }
comp_op(A) ::= NOT IN. { A = CMP_NOT_IN; }
comp_op(A) ::= IS. { A = CMP_IS; }
comp_op(A) ::= IS NOT. { A = CMP_IS_NOT; }

expr(A) ::= xor_expr(E). { A = E; }
expr(A) ::= expr(L) BAR xor_expr(R). { A = pc_binop(ctx, L, OP_BITOR, R); }
xor_expr(A) ::= and_expr(E). { A = E; }
xor_expr(A) ::= xor_expr(L) CARET and_expr(R). { A = pc_binop(ctx, L, OP_BITXOR, R); }
and_expr(A) ::= shift_expr(E). { A = E; }
and_expr(A) ::= and_expr(L) AMP shift_expr(R). { A = pc_binop(ctx, L, OP_BITAND, R); }
shift_expr(A) ::= arith(E). { A = E; }
shift_expr(A) ::= shift_expr(L) LSHIFT arith(R). { A = pc_binop(ctx, L, OP_LSHIFT, R); }
shift_expr(A) ::= shift_expr(L) RSHIFT arith(R). { A = pc_binop(ctx, L, OP_RSHIFT, R); }
arith(A) ::= term(E). { A = E; }
arith(A) ::= arith(L) PLUS term(R). { A = pc_binop(ctx, L, OP_ADD, R); }
arith(A) ::= arith(L) MINUS term(R). { A = pc_binop(ctx, L, OP_SUB, R); }
term(A) ::= factor(E). { A = E; }
term(A) ::= term(L) STAR factor(R). { A = pc_binop(ctx, L, OP_MUL, R); }
term(A) ::= term(L) SLASH factor(R). { A = pc_binop(ctx, L, OP_DIV, R); }
term(A) ::= term(L) DSLASH factor(R). { A = pc_binop(ctx, L, OP_FLOORDIV, R); }
term(A) ::= term(L) PERCENT factor(R). { A = pc_binop(ctx, L, OP_MOD, R); }
term(A) ::= term(L) AT factor(R). { A = pc_binop(ctx, L, OP_MATMUL, R); }
factor(A) ::= PLUS(T) factor(E). {
  A = pc_endn(pc_tok(ctx, N_UNARYOP, T), E); A->op = UOP_POS; A->a = E;
}
factor(A) ::= MINUS(T) factor(E). {
  A = pc_endn(pc_tok(ctx, N_UNARYOP, T), E); A->op = UOP_NEG; A->a = E;
}
factor(A) ::= TILDE(T) factor(E). {
  A = pc_endn(pc_tok(ctx, N_UNARYOP, T), E); A->op = UOP_INVERT; A->a = E;
}
factor(A) ::= power(E). { A = E; }
power(A) ::= await_primary(E). { A = E; }
power(A) ::= await_primary(L) DSTAR factor(R). { A = pc_binop(ctx, L, OP_POW, R); }
await_primary(A) ::= AWAIT(T) primary(E). { A = pc_endn(pc_tok(ctx, N_AWAIT, T), E); A->a = E; }
await_primary(A) ::= primary(E). { A = E; }

primary(A) ::= atom(E). { A = E; }
primary(A) ::= primary(P) DOT NAME(N). {
  A = pc_end(pc_at(ctx, N_ATTRIBUTE, P), N); A->a = P; A->str = pc_name(ctx, N)->str;
}
primary(A) ::= primary(P) LPAREN RPAREN(R). {
  NodeList none; memset(&none, 0, sizeof none);
  A = pc_call(ctx, P, none, R);
}
primary(A) ::= primary(P) LPAREN arglist(L) RPAREN(R). { A = pc_call(ctx, P, L, R); }
primary(A) ::= primary(P) LBRACK subscripts(S) RBRACK(R). {
  A = pc_end(pc_at(ctx, N_SUBSCRIPT, P), R); A->a = P; A->b = S;
}

%type arglist {NodeList}
arglist(A) ::= args(L). { A = L; }
arglist(A) ::= args(L) COMMA. { A = L; }
%type args {NodeList}
args(A) ::= argument(E). { A = pc_one(ctx, E); }
args(A) ::= args(B) COMMA argument(E). { A = B; ast_list_push(AR, &A, E); }
argument(A) ::= namedexpr(E). { A = E; }
argument(A) ::= test(E) comp_for(C). {
  A = pc_at(ctx, N_GENEXP, E); A->a = E; A->list = C;
  pc_endn(A, C.items[C.len - 1]);
  A->ival = 1; /* marks a bare generator argument for pc_call */
}
argument(A) ::= test(K) EQUAL test(V). { A = pc_keyword(ctx, K, V); }
argument(A) ::= STAR(S) test(E). { A = pc_endn(pc_tok(ctx, N_STARRED, S), E); A->a = E; }
argument(A) ::= DSTAR(S) test(E). {
  A = pc_endn(pc_tok(ctx, N_KEYWORD, S), E); A->a = E;
}

subscripts(A) ::= sublist(L). { A = pc_tuple(ctx, L, true, NULL); }
subscripts(A) ::= sublist(L) COMMA. { A = pc_tuple(ctx, L, false, NULL); }
%type sublist {NodeList}
sublist(A) ::= subscript(E). { A = pc_one(ctx, E); }
sublist(A) ::= sublist(B) COMMA subscript(E). { A = B; ast_list_push(AR, &A, E); }
subscript(A) ::= namedexpr(E). { A = E; }
subscript(A) ::= star_expr(E). { A = E; }
subscript(A) ::= opt_test(L) COLON(C) opt_test(U). {
  A = pc_end(pc_tok(ctx, N_SLICE, C), C); A->a = L; A->b = U;
  if (L) { A->line = L->line; A->col = L->col; }
  if (U) pc_endn(A, U);
}
subscript(A) ::= opt_test(L) COLON(C) opt_test(U) COLON(D) opt_test(S). {
  A = pc_end(pc_tok(ctx, N_SLICE, C), D); A->a = L; A->b = U; A->c = S;
  if (L) { A->line = L->line; A->col = L->col; }
  if (S) pc_endn(A, S);
}
opt_test(A) ::= . { A = NULL; }
opt_test(A) ::= test(E). { A = E; }

%type comp_for {NodeList}
comp_for(A) ::= comp_clause(C). { A = pc_one(ctx, C); }
comp_for(A) ::= comp_for(B) comp_clause(C). { A = B; ast_list_push(AR, &A, C); }
comp_for(A) ::= comp_for(B) IF or_test(E). {
  A = B; ast_list_push(AR, &A.items[A.len - 1]->list, E); pc_endn(A.items[A.len - 1], E);
}
comp_clause(A) ::= FOR(T) exprlist(X) IN or_test(E). {
  pc_target(ctx, X, TGT_COMP);
  A = pc_endn(pc_tok(ctx, N_COMPREHENSION, T), E); A->a = X; A->b = E;
}
comp_clause(A) ::= ASYNC(T) FOR exprlist(X) IN or_test(E). {
  pc_target(ctx, X, TGT_COMP);
  A = pc_endn(pc_tok(ctx, N_COMPREHENSION, T), E); A->a = X; A->b = E; A->flags |= NF_ASYNC;
}

atom(A) ::= NAME(T). { A = pc_name(ctx, T); }
atom(A) ::= NUMBER(T). { A = pc_number(ctx, T); }
atom(A) ::= strings(S). { A = pc_string_done(ctx, S); }
atom(A) ::= NONE(T). { A = pc_end(pc_tok(ctx, N_NONE, T), T); }
atom(A) ::= TRUE(T). { A = pc_end(pc_tok(ctx, N_TRUE, T), T); }
atom(A) ::= FALSE(T). { A = pc_end(pc_tok(ctx, N_FALSE, T), T); }
atom(A) ::= ELLIPSIS(T). { A = pc_end(pc_tok(ctx, N_ELLIPSIS, T), T); }
atom(A) ::= LPAREN(L) RPAREN(R). {
  A = pc_paren(pc_end(pc_tok(ctx, N_TUPLE, L), R), L, R);
}
atom(A) ::= LPAREN(L) yield_expr(E) RPAREN(R). {
  A = pc_paren(E, L, R);
}
atom(A) ::= LPAREN(L) slist(S) RPAREN(R). {
  A = pc_paren(pc_tuple(ctx, S, true, L), L, R);
  if (A->kind == N_TUPLE) { A->line = L->line; A->col = L->col; pc_end(A, R); }
}
atom(A) ::= LPAREN(L) slist(S) COMMA RPAREN(R). {
  A = pc_paren(pc_end(pc_tuple(ctx, S, false, L), R), L, R);
}
atom(A) ::= LPAREN(L) namedexpr(E) comp_for(C) RPAREN(R). {
  A = pc_paren(pc_end(pc_tok(ctx, N_GENEXP, L), R), L, R); A->a = E; A->list = C;
}
atom(A) ::= LBRACK(L) RBRACK(R). { A = pc_end(pc_tok(ctx, N_LIST, L), R); }
atom(A) ::= LBRACK(L) slist(S) RBRACK(R). { A = pc_end(pc_tok(ctx, N_LIST, L), R); A->list = S; }
atom(A) ::= LBRACK(L) slist(S) COMMA RBRACK(R). {
  A = pc_end(pc_tok(ctx, N_LIST, L), R); A->list = S;
}
atom(A) ::= LBRACK(L) namedexpr(E) comp_for(C) RBRACK(R). {
  A = pc_end(pc_tok(ctx, N_LISTCOMP, L), R); A->a = E; A->list = C;
}
atom(A) ::= LBRACE(L) RBRACE(R). { A = pc_end(pc_tok(ctx, N_DICT, L), R); }
atom(A) ::= LBRACE(L) dlist(S) RBRACE(R). { A = pc_end(pc_tok(ctx, N_DICT, L), R); A->list = S; }
atom(A) ::= LBRACE(L) dlist(S) COMMA RBRACE(R). {
  A = pc_end(pc_tok(ctx, N_DICT, L), R); A->list = S;
}
atom(A) ::= LBRACE(L) slist(S) RBRACE(R). { A = pc_end(pc_tok(ctx, N_SET, L), R); A->list = S; }
atom(A) ::= LBRACE(L) slist(S) COMMA RBRACE(R). {
  A = pc_end(pc_tok(ctx, N_SET, L), R); A->list = S;
}
atom(A) ::= LBRACE(L) namedexpr(E) comp_for(C) RBRACE(R). {
  A = pc_end(pc_tok(ctx, N_SETCOMP, L), R); A->a = E; A->list = C;
}
atom(A) ::= LBRACE(L) test(K) COLON test(V) comp_for(C) RBRACE(R). {
  A = pc_end(pc_tok(ctx, N_DICTCOMP, L), R); A->a = K; A->b = V; A->list = C;
}

%type dlist {NodeList}
dlist(A) ::= ditem(E). { A = pc_one(ctx, E); }
dlist(A) ::= dlist(B) COMMA ditem(E). { A = B; ast_list_push(AR, &A, E); }
ditem(A) ::= test(K) COLON test(V). { A = pc_endn(pc_at(ctx, N_PAIR, K), V); A->a = K; A->b = V; }
ditem(A) ::= DSTAR(S) expr(V). { A = pc_endn(pc_tok(ctx, N_PAIR, S), V); A->b = V; }

strings(A) ::= STRING(T). { A = pc_string(ctx, NULL, T); }
strings(A) ::= strings(B) STRING(T). { A = pc_string(ctx, B, T); }
