import { PageHeader } from '../components/PageHeader';

export function Sessions() {
  return <PageHeader title="Sessions and run records" lead="This page is being built." />;
}
