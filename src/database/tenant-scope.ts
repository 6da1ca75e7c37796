/**
 * The organization a repository call is confined to. Every repository method on tenant-owned
 * data takes one as its first argument and spreads it into its `where`, so a query that
 * forgets the tenant does not compile. Built only from the request's principal.
 */
export interface TenantScope {
  readonly organizationId: string;
}
