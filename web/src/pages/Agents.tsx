import { PageHeader } from '../components/PageHeader';

export function Agents() {
  return <PageHeader title="Agents and MCP servers" lead="This page is being built." />;
}
